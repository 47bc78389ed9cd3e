/*
 * ldapload: a small LDAP load generator for `npm run bench` (ak-outpost vs slapd).
 *
 * Non-blocking sockets and epoll, one thread by default (-T for more); hand-rolled BER for BindRequest and
 * SearchRequest (RFC 4511) and a minimal response parser that only reads what it counts: message IDs, result
 * codes, entries. Closed loop by default (each connection keeps -d requests in flight); -r makes it open loop
 * (a fixed schedule; latency then counts from the scheduled time, so a stalled server cannot hide its stall).
 * Prints {"event":"measure"} when the measured window starts, {"event":"end"} when it ends, then one JSON line
 * of results. Build: cc -O2 -pthread -o ldapload ldapload.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 128
#define MAX_CONNS 4096
#define MAX_THREADS 16
#define MAX_MESSAGE (64u * 1024u * 1024u) /* one LDAPMessage; whole-directory entries are far smaller */
#define READ_CHUNK (256u * 1024u)
#define MAX_TEXT 1024
#define DRAIN_GRACE_NS 5000000000LL
#define CONNECT_TIMEOUT_NS 10000000000LL

enum mode { MODE_BIND, MODE_SEARCH, MODE_MIXED };
enum conn_state { CS_CONNECTING, CS_SETUP_BIND, CS_RUNNING, CS_DEAD };
enum phase { PH_FREE, PH_SETUP, PH_BIND, PH_SEARCH };

/* ---------------------------------------------------------------- configuration */

static struct {
  const char *host;
  int port;
  enum mode mode;
  int conns, depth, threads;
  double duration_s, warmup_s, rate;
  long long total_ops; /* 0: run for duration_s */
  const char *bind_dn, *bind_pw;       /* patterns; one %d-style conversion at most */
  const char *search_dn, *search_pw;   /* fixed identity bound once per connection before searching */
  long lo, hi;                         /* random index range for the patterns, inclusive */
  const char *base, *filter;
  int scope;
  char **attrs;
  int nattrs;
  unsigned seed;
  bool sequential; /* indices lo, lo+1, ... (wrapping) instead of random: primes every user exactly once */
} cfg = {
    .host = "127.0.0.1", .conns = 1, .depth = 1, .threads = 1, .duration_s = 5, .scope = 2, .lo = 1, .hi = 1,
    .base = "", .filter = "(objectClass=*)", .seed = 1,
};

static struct sockaddr_storage server_addr;
static socklen_t server_addr_len;
static volatile sig_atomic_t stop_requested;
/* Window boundaries (CLOCK_MONOTONIC ns), written by main before workers leave the barrier / while running. */
static int64_t t_start, t_measure, t_end;
static long long ops_issued_total; /* atomic: -n budget */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *msg) {
  fprintf(stderr, "ldapload: %s\n", msg);
  exit(2);
}

/* ---------------------------------------------------------------- growable byte buffer */

typedef struct {
  uint8_t *p;
  size_t len, cap, off; /* off: consumed prefix (read and write buffers) */
} buf_t;

static void buf_reserve(buf_t *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) die("out of memory");
  b->p = p;
  b->cap = cap;
}

static void buf_put(buf_t *b, const void *data, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void buf_byte(buf_t *b, uint8_t v) { buf_put(b, &v, 1); }

static void buf_compact(buf_t *b) {
  if (b->off == 0) return;
  memmove(b->p, b->p + b->off, b->len - b->off);
  b->len -= b->off;
  b->off = 0;
}

/* ---------------------------------------------------------------- BER encoding (definite, minimal lengths) */

static size_t ber_begin(buf_t *b, uint8_t tag) {
  buf_byte(b, tag);
  size_t at = b->len;
  buf_reserve(b, 5);
  b->len += 5; /* room for the longest length; ber_end shifts the content back */
  return at;
}

static void ber_end(buf_t *b, size_t at) {
  size_t content = b->len - (at + 5);
  uint8_t hdr[5];
  int n;
  if (content < 0x80) {
    hdr[0] = (uint8_t)content;
    n = 1;
  } else if (content < 0x100) {
    hdr[0] = 0x81, hdr[1] = (uint8_t)content;
    n = 2;
  } else if (content < 0x10000) {
    hdr[0] = 0x82, hdr[1] = (uint8_t)(content >> 8), hdr[2] = (uint8_t)content;
    n = 3;
  } else if (content < 0x1000000) {
    hdr[0] = 0x83, hdr[1] = (uint8_t)(content >> 16), hdr[2] = (uint8_t)(content >> 8), hdr[3] = (uint8_t)content;
    n = 4;
  } else {
    hdr[0] = 0x84, hdr[1] = (uint8_t)(content >> 24), hdr[2] = (uint8_t)(content >> 16), hdr[3] = (uint8_t)(content >> 8),
    hdr[4] = (uint8_t)content;
    n = 5;
  }
  memcpy(b->p + at, hdr, (size_t)n);
  if (n < 5) memmove(b->p + at + n, b->p + at + 5, content);
  b->len -= (size_t)(5 - n);
}

static void ber_octets(buf_t *b, uint8_t tag, const void *data, size_t n) {
  size_t at = ber_begin(b, tag);
  buf_put(b, data, n);
  ber_end(b, at);
}

static void ber_int(buf_t *b, uint8_t tag, long long v) {
  uint8_t tmp[9];
  int n = 0;
  /* two's complement, minimal */
  do {
    tmp[8 - n] = (uint8_t)(v & 0xff);
    v >>= 8;
    n++;
  } while (!((v == 0 && !(tmp[9 - n] & 0x80)) || (v == -1 && (tmp[9 - n] & 0x80))) && n < 9);
  ber_octets(b, tag, tmp + 9 - n, (size_t)n);
}

/* ---------------------------------------------------------------- RFC 4515 filter -> BER */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Unescapes value bytes [s, e) (\XX) into out; returns the length or -1. */
static int unescape(const char *s, const char *e, char *out, size_t cap) {
  size_t n = 0;
  while (s < e) {
    int c = (unsigned char)*s++;
    if (c == '\\') {
      if (e - s < 2) return -1;
      int h = hexval(s[0]), l = hexval(s[1]);
      if (h < 0 || l < 0) return -1;
      c = h * 16 + l;
      s += 2;
    }
    if (n >= cap) return -1;
    out[n++] = (char)c;
  }
  return (int)n;
}

static int parse_filter(const char **sp, buf_t *b, int depth);

static int parse_item(const char *s, const char *e, buf_t *b) {
  const char *op = s;
  while (op < e && *op != '=' && *op != '~' && *op != '<' && *op != '>' && *op != ':') op++;
  if (op == e) return -1;
  char value[MAX_TEXT];
  if (*op == ':') { /* extensible: [attr][:dn][:rule]:=value */
    const char *attr_end = op, *rule = NULL, *rule_end = NULL;
    bool dn = false;
    const char *p = op;
    while (p < e && *p == ':') {
      if (p + 1 < e && p[1] == '=') break;
      const char *q = p + 1;
      while (q < e && *q != ':') q++;
      if ((size_t)(q - p - 1) == 2 && strncasecmp(p + 1, "dn", 2) == 0) dn = true;
      else rule = p + 1, rule_end = q;
      p = q;
    }
    if (p + 1 >= e || p[0] != ':' || p[1] != '=') return -1;
    int vn = unescape(p + 2, e, value, sizeof value);
    if (vn < 0) return -1;
    size_t at = ber_begin(b, 0xa9);
    if (rule) ber_octets(b, 0x81, rule, (size_t)(rule_end - rule));
    if (attr_end > s) ber_octets(b, 0x82, s, (size_t)(attr_end - s));
    ber_octets(b, 0x83, value, (size_t)vn);
    if (dn) ber_octets(b, 0x84, "\xff", 1);
    ber_end(b, at);
    return 0;
  }
  const char *attr_end = op;
  uint8_t tag;
  const char *v;
  if (*op == '=') tag = 0xa3, v = op + 1;
  else if (op + 1 < e && op[1] == '=') tag = *op == '~' ? 0xa8 : *op == '>' ? 0xa5 : 0xa6, v = op + 2;
  else return -1;
  if (attr_end == s) return -1;
  if (tag == 0xa3 && e - v == 1 && *v == '*') { /* present */
    ber_octets(b, 0x87, s, (size_t)(attr_end - s));
    return 0;
  }
  bool star = false;
  if (tag == 0xa3)
    for (const char *q = v; q < e; q++) star |= *q == '*';
  if (!star) {
    int vn = unescape(v, e, value, sizeof value);
    if (vn < 0) return -1;
    size_t at = ber_begin(b, tag);
    ber_octets(b, 0x04, s, (size_t)(attr_end - s));
    ber_octets(b, 0x04, value, (size_t)vn);
    ber_end(b, at);
    return 0;
  }
  size_t at = ber_begin(b, 0xa4); /* substrings */
  ber_octets(b, 0x04, s, (size_t)(attr_end - s));
  size_t seq = ber_begin(b, 0x30);
  const char *part = v;
  bool first = true;
  for (const char *q = v;; q++) {
    if (q == e || *q == '*') {
      if (q > part) {
        int vn = unescape(part, q, value, sizeof value);
        if (vn < 0) return -1;
        ber_octets(b, first ? 0x80 : q == e ? 0x82 : 0x81, value, (size_t)vn);
      }
      first = false;
      part = q + 1;
      if (q == e) break;
    }
  }
  ber_end(b, seq);
  ber_end(b, at);
  return 0;
}

static int parse_filter(const char **sp, buf_t *b, int depth) {
  const char *s = *sp;
  if (depth > 32 || *s != '(') return -1;
  s++;
  if (*s == '&' || *s == '|') {
    size_t at = ber_begin(b, *s == '&' ? 0xa0 : 0xa1);
    s++;
    while (*s == '(')
      if (parse_filter(&s, b, depth + 1) < 0) return -1;
    ber_end(b, at);
  } else if (*s == '!') {
    size_t at = ber_begin(b, 0xa2);
    s++;
    if (parse_filter(&s, b, depth + 1) < 0) return -1;
    ber_end(b, at);
  } else {
    const char *e = s;
    while (*e && *e != ')' && *e != '(') e++;
    if (parse_item(s, e, b) < 0) return -1;
    s = e;
  }
  if (*s != ')') return -1;
  *sp = s + 1;
  return 0;
}

/* ---------------------------------------------------------------- patterns ("cn=user%05d,...") */

/* At most one %[0-9]*d conversion, "%%" allowed; nothing else, so the pattern is a safe snprintf format. */
static void check_pattern(const char *name, const char *p) {
  if (!p) return;
  int conversions = 0;
  for (const char *q = p; *q; q++) {
    if (*q != '%') continue;
    if (q[1] == '%') {
      q++;
      continue;
    }
    q++;
    while (*q >= '0' && *q <= '9') q++;
    if (*q != 'd') {
      fprintf(stderr, "ldapload: %s: only %%d conversions (e.g. %%05d) are allowed\n", name);
      exit(2);
    }
    conversions++;
  }
  if (conversions > 1) {
    fprintf(stderr, "ldapload: %s: at most one %%d conversion\n", name);
    exit(2);
  }
}

static size_t expand(char *out, size_t cap, const char *pattern, long idx) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  int n = snprintf(out, cap, pattern, (int)idx); /* validated by check_pattern */
#pragma GCC diagnostic pop
  if (n < 0 || (size_t)n >= cap) die("pattern expands beyond 1024 bytes");
  return (size_t)n;
}

/* ---------------------------------------------------------------- latency histogram (log-linear, ~1.6 %) */

#define SUB_BITS 7
#define SUB (1 << SUB_BITS)
#define HALF (SUB / 2)
#define OCTAVES 40
#define BUCKETS (SUB + OCTAVES * HALF)
typedef struct {
  uint64_t counts[BUCKETS];
  uint64_t n, max_ns;
  double sum_ns;
} hist_t;

/* Values below SUB exactly; above, HALF linear buckets per power of two. */
static int hist_index(uint64_t v) {
  if (v < SUB) return (int)v;
  int exp = (63 - __builtin_clzll(v)) - SUB_BITS + 1;
  if (exp > OCTAVES) return BUCKETS - 1;
  return SUB + (exp - 1) * HALF + (int)((v >> exp) - HALF);
}

/* Upper bound of a bucket's values (percentiles report the top of their bucket, never an underestimate). */
static uint64_t hist_value(int i) {
  if (i < SUB) return (uint64_t)i;
  int exp = (i - SUB) / HALF + 1, sub = (i - SUB) % HALF;
  return ((uint64_t)(sub + HALF + 1) << exp) - 1;
}

static void hist_add(hist_t *h, uint64_t ns) {
  h->counts[hist_index(ns)]++;
  h->n++;
  h->sum_ns += (double)ns;
  if (ns > h->max_ns) h->max_ns = ns;
}

static void hist_merge(hist_t *into, const hist_t *from) {
  for (int i = 0; i < BUCKETS; i++) into->counts[i] += from->counts[i];
  into->n += from->n;
  into->sum_ns += from->sum_ns;
  if (from->max_ns > into->max_ns) into->max_ns = from->max_ns;
}

static double hist_pct_us(const hist_t *h, double pct) {
  if (h->n == 0) return 0;
  uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)h->n);
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < BUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) {
      uint64_t v = hist_value(i);
      return (double)(v < h->max_ns ? v : h->max_ns) / 1000.0;
    }
  }
  return (double)h->max_ns / 1000.0;
}

/* ---------------------------------------------------------------- connections and workers */

typedef struct {
  int32_t msgid; /* 0: free */
  enum phase phase;
  int64_t t0; /* send (closed loop) or scheduled (open loop) time */
  long idx;
  uint32_t entries;
} slot_t;

typedef struct worker worker_t;

typedef struct {
  int fd;
  enum conn_state state;
  worker_t *w;
  buf_t rbuf, wbuf;
  uint32_t seq;
  int inflight;
  bool want_out;
  slot_t slots[MAX_DEPTH];
} conn_t;

struct worker {
  pthread_t thread;
  int id, epfd, nconns;
  int timer_fd;          /* open loop: wakes the worker at the next scheduled request */
  int64_t timer_armed;   /* absolute time the timer is set to, 0 when disarmed */
  conn_t *conns;
  uint64_t rng;
  hist_t hist;
  uint64_t ops, errors, entries, bytes_in, setup_errors, closed, protocol_errors, unexpected, unanswered;
  uint64_t rc[256];
  double rate_ns; /* open loop: ns between scheduled requests of this worker */
  uint64_t scheduled;
  buf_t scratch;
};

static pthread_barrier_t barrier;

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static long long sequence_next; /* atomic, for -Q */

static long random_index(worker_t *w) {
  return cfg.lo + (long)(rng_next(&w->rng) % (uint64_t)(cfg.hi - cfg.lo + 1));
}

static long pick_index(worker_t *w) {
  uint64_t span = (uint64_t)(cfg.hi - cfg.lo + 1);
  if (cfg.sequential) return cfg.lo + (long)((uint64_t)__atomic_fetch_add(&sequence_next, 1, __ATOMIC_RELAXED) % span);
  return cfg.lo + (long)(rng_next(&w->rng) % span);
}

static void conn_want_out(conn_t *c, bool on) {
  if (c->want_out == on || c->state == CS_DEAD) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = on;
}

static bool in_window(int64_t t) { return t >= t_measure && t <= t_end; }

static void conn_kill(conn_t *c) {
  if (c->state == CS_DEAD) return;
  worker_t *w = c->w;
  if (c->state == CS_CONNECTING || c->state == CS_SETUP_BIND) w->setup_errors++;
  else w->closed++;
  int64_t now = now_ns();
  for (int i = 0; i < cfg.depth; i++) {
    if (c->slots[i].msgid != 0 && c->slots[i].phase != PH_SETUP && in_window(now)) w->errors++;
    c->slots[i].msgid = 0;
  }
  c->inflight = 0;
  epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = CS_DEAD;
}

static void conn_flush(conn_t *c) {
  while (c->wbuf.off < c->wbuf.len) {
    ssize_t n = send(c->fd, c->wbuf.p + c->wbuf.off, c->wbuf.len - c->wbuf.off, MSG_NOSIGNAL);
    if (n > 0) {
      c->wbuf.off += (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      conn_want_out(c, true);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    conn_kill(c);
    return;
  }
  c->wbuf.off = c->wbuf.len = 0;
  conn_want_out(c, false);
}

static int32_t slot_msgid(conn_t *c, int slot) {
  c->seq = (c->seq + 1) & 0xfffff;
  return (int32_t)(((c->seq << 7) | (uint32_t)slot) + 1);
}

static void put_bind(conn_t *c, int32_t msgid, const char *dn, size_t dnlen, const char *pw, size_t pwlen) {
  buf_t *b = &c->wbuf;
  size_t msg = ber_begin(b, 0x30);
  ber_int(b, 0x02, msgid);
  size_t op = ber_begin(b, 0x60);
  ber_int(b, 0x02, 3);
  ber_octets(b, 0x04, dn, dnlen);
  ber_octets(b, 0x80, pw, pwlen);
  ber_end(b, op);
  ber_end(b, msg);
}

static void put_search(conn_t *c, int32_t msgid, long idx) {
  buf_t *b = &c->wbuf;
  char base[MAX_TEXT], filter[MAX_TEXT];
  size_t baselen = expand(base, sizeof base, cfg.base, idx);
  expand(filter, sizeof filter, cfg.filter, idx);
  size_t msg = ber_begin(b, 0x30);
  ber_int(b, 0x02, msgid);
  size_t op = ber_begin(b, 0x63);
  ber_octets(b, 0x04, base, baselen);
  ber_int(b, 0x0a, cfg.scope);
  ber_int(b, 0x0a, 0); /* neverDerefAliases */
  ber_int(b, 0x02, 0); /* sizeLimit */
  ber_int(b, 0x02, 0); /* timeLimit */
  ber_octets(b, 0x01, "\x00", 1);
  const char *f = filter;
  if (parse_filter(&f, b, 0) < 0 || *f != '\0') die("cannot parse the search filter");
  size_t attrs = ber_begin(b, 0x30);
  for (int i = 0; i < cfg.nattrs; i++) ber_octets(b, 0x04, cfg.attrs[i], strlen(cfg.attrs[i]));
  ber_end(b, attrs);
  ber_end(b, op);
  ber_end(b, msg);
}

static void issue(conn_t *c, int slot, enum phase phase, long idx, int64_t t0) {
  slot_t *s = &c->slots[slot];
  s->msgid = slot_msgid(c, slot);
  s->phase = phase;
  s->idx = idx;
  s->entries = 0;
  s->t0 = t0;
  char dn[MAX_TEXT], pw[MAX_TEXT];
  if (phase == PH_SETUP) {
    size_t dl = expand(dn, sizeof dn, cfg.search_dn, idx), pl = expand(pw, sizeof pw, cfg.search_pw, idx);
    put_bind(c, s->msgid, dn, dl, pw, pl);
  } else if (phase == PH_BIND) {
    size_t dl = expand(dn, sizeof dn, cfg.bind_dn, idx), pl = expand(pw, sizeof pw, cfg.bind_pw, idx);
    put_bind(c, s->msgid, dn, dl, pw, pl);
  } else {
    put_search(c, s->msgid, idx);
  }
  c->inflight++;
}

/* Starts new operations in free slots, if the window, the -n budget and the schedule allow. */
static void fill(conn_t *c, int64_t now) {
  if (c->state != CS_RUNNING || stop_requested || now >= t_end) return;
  worker_t *w = c->w;
  for (int i = 0; i < cfg.depth && c->inflight < cfg.depth; i++) {
    if (c->slots[i].msgid != 0) continue;
    int64_t t0 = now;
    if (cfg.rate > 0) {
      int64_t due = t_start + (int64_t)((double)w->scheduled * w->rate_ns);
      if (due > now) return;
      t0 = due;
    }
    if (cfg.total_ops > 0 && __atomic_fetch_add(&ops_issued_total, 1, __ATOMIC_RELAXED) >= cfg.total_ops) return;
    w->scheduled++;
    issue(c, i, cfg.mode == MODE_SEARCH ? PH_SEARCH : PH_BIND, pick_index(w), t0);
  }
}

static void finish_op(conn_t *c, slot_t *s, int rc, int64_t now) {
  worker_t *w = c->w;
  if (in_window(now)) {
    w->ops++;
    w->entries += s->entries;
    hist_add(&w->hist, (uint64_t)(now - s->t0));
    if (rc != 0) {
      w->errors++;
      w->rc[rc & 0xff]++;
    }
  }
  s->msgid = 0;
  c->inflight--;
}

/* Length at p (BER definite form); returns header bytes used, 0 if incomplete, -1 if invalid. */
static int ber_len(const uint8_t *p, size_t avail, size_t *len) {
  if (avail < 1) return 0;
  if (p[0] < 0x80) {
    *len = p[0];
    return 1;
  }
  int n = p[0] & 0x7f;
  if (n == 0 || n > 4) return -1;
  if (avail < (size_t)n + 1) return 0;
  size_t v = 0;
  for (int i = 1; i <= n; i++) v = (v << 8) | p[i];
  *len = v;
  return n + 1;
}

static void protocol_error(conn_t *c) {
  c->w->protocol_errors++;
  conn_kill(c);
}

/* Handles every complete message in the read buffer. */
static void process(conn_t *c, int64_t now) {
  worker_t *w = c->w;
  buf_t *r = &c->rbuf;
  while (c->state != CS_DEAD) {
    const uint8_t *p = r->p + r->off;
    size_t avail = r->len - r->off, len;
    if (avail < 2) break;
    if (p[0] != 0x30) { protocol_error(c); return; }
    int h = ber_len(p + 1, avail - 1, &len);
    if (h < 0 || len > MAX_MESSAGE) { protocol_error(c); return; }
    if (h == 0 || avail < 1 + (size_t)h + len) break;
    const uint8_t *m = p + 1 + h, *end = m + len;
    size_t total = 1 + (size_t)h + len;
    /* messageID */
    if (end - m < 3 || m[0] != 0x02 || m[1] < 1 || m[1] > 4 || end - m < 2 + m[1]) { protocol_error(c); return; }
    int32_t msgid = 0;
    for (int i = 0; i < m[1]; i++) msgid = (int32_t)(((uint32_t)msgid << 8) | m[2 + i]);
    m += 2 + m[1];
    if (m >= end) { protocol_error(c); return; }
    uint8_t tag = m[0];
    size_t oplen;
    int oh = ber_len(m + 1, (size_t)(end - m - 1), &oplen);
    if (oh <= 0 || oplen > (size_t)(end - m - 1 - oh)) { protocol_error(c); return; }
    const uint8_t *op = m + 1 + oh;
    r->off += total;
    w->bytes_in += total;

    if (msgid == 0) { /* Notice of Disconnection */
      conn_kill(c);
      return;
    }
    slot_t *s = &c->slots[(msgid - 1) & (MAX_DEPTH - 1)];
    if (((msgid - 1) & (MAX_DEPTH - 1)) >= cfg.depth || s->msgid != msgid) {
      w->unexpected++;
      continue;
    }
    if (tag == 0x64) {
      s->entries++;
      continue;
    }
    if (tag == 0x73) continue; /* search reference */
    if (tag != 0x61 && tag != 0x65) {
      w->unexpected++;
      continue;
    }
    if (oplen < 3 || op[0] != 0x0a || op[1] != 1) { protocol_error(c); return; }
    int rc = op[2];
    if (s->phase == PH_SETUP) {
      s->msgid = 0;
      c->inflight--;
      if (rc != 0) {
        fprintf(stderr, "ldapload: setup bind failed with result code %d\n", rc);
        conn_kill(c);
        return;
      }
      c->state = CS_RUNNING;
      continue;
    }
    if (s->phase == PH_BIND && cfg.mode == MODE_MIXED && rc == 0) {
      int64_t t0 = s->t0;
      long idx = s->idx;
      int slot = (int)(s - c->slots);
      c->inflight--;
      issue(c, slot, PH_SEARCH, idx, t0);
      continue;
    }
    finish_op(c, s, rc, now);
  }
  if (r->off == r->len) r->off = r->len = 0;
  else if (r->off > r->cap / 2) buf_compact(r);
}

static void conn_read(conn_t *c, int64_t now) {
  buf_t *r = &c->rbuf;
  buf_reserve(r, READ_CHUNK);
  ssize_t n = recv(c->fd, r->p + r->len, r->cap - r->len, 0);
  if (n > 0) {
    r->len += (size_t)n;
    process(c, now);
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  conn_kill(c);
}

static void conn_start(worker_t *w, conn_t *c) {
  memset(c, 0, sizeof *c);
  c->w = w;
  c->fd = socket(server_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket() failed");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->state = CS_CONNECTING;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  c->want_out = true;
  epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev);
  if (connect(c->fd, (struct sockaddr *)&server_addr, server_addr_len) < 0 && errno != EINPROGRESS) conn_kill(c);
}

static void on_connected(conn_t *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    conn_kill(c);
    return;
  }
  if (cfg.search_dn != NULL) {
    c->state = CS_SETUP_BIND;
    issue(c, 0, PH_SETUP, random_index(c->w), now_ns());
    conn_flush(c);
  } else {
    c->state = CS_RUNNING;
    conn_want_out(c, false);
  }
}

static void handle_event(conn_t *c, uint32_t events, int64_t now) {
  if (c->state == CS_DEAD) return;
  if (c->state == CS_CONNECTING) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c);
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) conn_read(c, now);
  if (c->state != CS_DEAD && (events & EPOLLOUT)) conn_flush(c);
}

static int poll_once(worker_t *w, int timeout_ms) {
  struct epoll_event evs[256];
  int n = epoll_wait(w->epfd, evs, 256, timeout_ms);
  int64_t now = now_ns();
  for (int i = 0; i < n; i++) {
    if (evs[i].data.ptr == NULL) { /* the schedule timer */
      uint64_t expirations;
      (void)!read(w->timer_fd, &expirations, sizeof expirations);
      w->timer_armed = 0;
      continue;
    }
    handle_event(evs[i].data.ptr, evs[i].events, now);
  }
  return n;
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  /* Connect and bind every connection before the clock starts. */
  for (int i = 0; i < w->nconns; i++) conn_start(w, &w->conns[i]);
  int64_t deadline = now_ns() + CONNECT_TIMEOUT_NS;
  for (;;) {
    int pending = 0;
    for (int i = 0; i < w->nconns; i++) pending += w->conns[i].state == CS_CONNECTING || w->conns[i].state == CS_SETUP_BIND;
    if (pending == 0 || stop_requested) break;
    if (now_ns() > deadline) {
      for (int i = 0; i < w->nconns; i++)
        if (w->conns[i].state == CS_CONNECTING || w->conns[i].state == CS_SETUP_BIND) conn_kill(&w->conns[i]);
      break;
    }
    poll_once(w, 100);
  }
  pthread_barrier_wait(&barrier); /* main sets t_start/t_measure/t_end */
  pthread_barrier_wait(&barrier);

  int64_t drain_deadline = 0;
  for (;;) {
    int64_t now = now_ns();
    bool issuing = !stop_requested && now < t_end;
    int alive = 0, inflight = 0;
    for (int i = 0; i < w->nconns; i++) {
      conn_t *c = &w->conns[i];
      if (c->state == CS_DEAD) continue;
      alive++;
      if (issuing) fill(c, now);
      if (c->wbuf.len > c->wbuf.off) conn_flush(c);
      inflight += c->inflight;
    }
    if (alive == 0) break;
    if (!issuing || (cfg.total_ops > 0 && __atomic_load_n(&ops_issued_total, __ATOMIC_RELAXED) >= cfg.total_ops)) {
      if (inflight == 0) break;
      if (drain_deadline == 0) drain_deadline = now + DRAIN_GRACE_NS;
      if (now > drain_deadline) break;
    }
    if (cfg.rate > 0 && issuing) {
      /* Due in the future: sleep on the timer (ns precision, no spinning). Due already: every slot is busy,
         so the next response wakes us. */
      int64_t due = t_start + (int64_t)((double)w->scheduled * w->rate_ns);
      if (due > now && due != w->timer_armed) {
        struct itimerspec its = {.it_value = {.tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL}};
        timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
        w->timer_armed = due;
      }
    }
    poll_once(w, 50);
  }
  for (int i = 0; i < w->nconns; i++) {
    conn_t *c = &w->conns[i];
    if (c->state == CS_DEAD) continue;
    for (int j = 0; j < cfg.depth; j++)
      if (c->slots[j].msgid != 0 && c->slots[j].phase != PH_SETUP) w->unanswered++;
    static const uint8_t unbind[] = {0x30, 0x05, 0x02, 0x01, 0x7f, 0x42, 0x00};
    (void)!send(c->fd, unbind, sizeof unbind, MSG_NOSIGNAL);
    close(c->fd);
    c->state = CS_DEAD;
  }
  return NULL;
}

/* ---------------------------------------------------------------- main */

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static double cpu_seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void sleep_until(int64_t t) {
  while (!stop_requested) {
    int64_t d = t - now_ns();
    if (d <= 0) return;
    struct timespec ts = {.tv_sec = d / 1000000000LL, .tv_nsec = d % 1000000000LL};
    if (ts.tv_sec > 0) ts.tv_sec = 0, ts.tv_nsec = 100000000L; /* re-check the stop flag every 100 ms */
    nanosleep(&ts, NULL);
  }
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') printf("\\%c", ch);
    else if (ch < 0x20) printf("\\u%04x", ch);
    else putchar(ch);
  }
  putchar('"');
}

static void usage(void) {
  fprintf(stderr,
          "usage: ldapload -h host -p port -m bind|search|mixed [-c conns] [-d depth] [-t seconds] [-W warmup]\n"
          "                [-n total_ops] [-r ops_per_s] [-T threads] [-S seed] [-l lo -H hi] [-Q]\n"
          "                [-D bind_dn_pattern -w password_pattern]     (bind, mixed: per operation)\n"
          "                [-A search_dn -P search_password]            (search: bound once per connection)\n"
          "                [-b base_pattern] [-s base|one|sub] [-f filter_pattern] [-a attr,attr,...]\n"
          "patterns take one %%d conversion (e.g. cn=user%%05d) filled with a random index in [lo, hi]\n"
          "(-Q: sequential indices instead, so -n (hi-lo+1) -Q touches every index once)\n");
  exit(2);
}

static void parse_args(int argc, char **argv) {
  int opt;
  const char *attrs = NULL;
  while ((opt = getopt(argc, argv, "h:p:m:c:d:t:W:n:r:T:S:l:H:QD:w:A:P:b:s:f:a:")) != -1) {
    switch (opt) {
      case 'h': cfg.host = optarg; break;
      case 'p': cfg.port = atoi(optarg); break;
      case 'm':
        if (strcmp(optarg, "bind") == 0) cfg.mode = MODE_BIND;
        else if (strcmp(optarg, "search") == 0) cfg.mode = MODE_SEARCH;
        else if (strcmp(optarg, "mixed") == 0) cfg.mode = MODE_MIXED;
        else usage();
        break;
      case 'c': cfg.conns = atoi(optarg); break;
      case 'd': cfg.depth = atoi(optarg); break;
      case 't': cfg.duration_s = atof(optarg); break;
      case 'W': cfg.warmup_s = atof(optarg); break;
      case 'n': cfg.total_ops = atoll(optarg); break;
      case 'r': cfg.rate = atof(optarg); break;
      case 'T': cfg.threads = atoi(optarg); break;
      case 'S': cfg.seed = (unsigned)strtoul(optarg, NULL, 10); break;
      case 'l': cfg.lo = atol(optarg); break;
      case 'H': cfg.hi = atol(optarg); break;
      case 'Q': cfg.sequential = true; break;
      case 'D': cfg.bind_dn = optarg; break;
      case 'w': cfg.bind_pw = optarg; break;
      case 'A': cfg.search_dn = optarg; break;
      case 'P': cfg.search_pw = optarg; break;
      case 'b': cfg.base = optarg; break;
      case 's':
        cfg.scope = strcmp(optarg, "base") == 0 ? 0 : strcmp(optarg, "one") == 0 ? 1 : strcmp(optarg, "sub") == 0 ? 2 : -1;
        if (cfg.scope < 0) usage();
        break;
      case 'f': cfg.filter = optarg; break;
      case 'a': attrs = optarg; break;
      default: usage();
    }
  }
  if (cfg.port <= 0 || cfg.port > 65535) usage();
  if (cfg.conns < 1 || cfg.conns > MAX_CONNS) die("-c must be 1..4096");
  if (cfg.depth < 1 || cfg.depth > MAX_DEPTH) die("-d must be 1..128");
  if (cfg.threads < 1 || cfg.threads > MAX_THREADS || cfg.threads > cfg.conns) die("-T must be 1..16 and at most -c");
  if (cfg.duration_s <= 0 && cfg.total_ops <= 0) die("-t or -n must be positive");
  if (cfg.duration_s > 3600 || cfg.warmup_s < 0 || cfg.warmup_s > 600) die("-t at most 3600, -W 0..600");
  if (cfg.hi < cfg.lo) die("-H must be >= -l");
  if (cfg.mode != MODE_SEARCH && (!cfg.bind_dn || !cfg.bind_pw)) die("bind and mixed need -D and -w");
  if (cfg.mode != MODE_SEARCH && cfg.depth != 1)
    die("binds cannot be pipelined: RFC 4511 4.2.1 forbids other requests while a bind is in progress (-d 1)");
  if ((cfg.search_dn == NULL) != (cfg.search_pw == NULL)) die("-A and -P go together");
  if (cfg.mode == MODE_MIXED && cfg.search_dn) die("mixed binds per operation; -A/-P are for search mode");
  check_pattern("-D", cfg.bind_dn);
  check_pattern("-w", cfg.bind_pw);
  check_pattern("-A", cfg.search_dn);
  check_pattern("-P", cfg.search_pw);
  check_pattern("-b", cfg.base);
  check_pattern("-f", cfg.filter);
  if (attrs && *attrs) {
    char *copy = strdup(attrs);
    cfg.attrs = calloc(strlen(attrs) + 1, sizeof(char *));
    if (!copy || !cfg.attrs) die("out of memory");
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) cfg.attrs[cfg.nattrs++] = tok;
  }
  { /* validate the filter once, before any connection */
    buf_t b = {0};
    char filter[MAX_TEXT];
    expand(filter, sizeof filter, cfg.filter, cfg.lo);
    const char *f = filter;
    if (parse_filter(&f, &b, 0) < 0 || *f != '\0') die("cannot parse the search filter (RFC 4515)");
    free(b.p);
  }
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
  char port[16];
  snprintf(port, sizeof port, "%d", cfg.port);
  if (getaddrinfo(cfg.host, port, &hints, &ai) != 0 || !ai) die("cannot resolve host");
  memcpy(&server_addr, ai->ai_addr, ai->ai_addrlen);
  server_addr_len = ai->ai_addrlen;
  freeaddrinfo(ai);

  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  worker_t *workers = calloc((size_t)cfg.threads, sizeof *workers);
  conn_t *conns = calloc((size_t)cfg.conns, sizeof *conns);
  if (!workers || !conns) die("out of memory");
  t_end = INT64_MAX;
  t_measure = INT64_MAX;
  pthread_barrier_init(&barrier, NULL, (unsigned)cfg.threads + 1);
  int assigned = 0;
  for (int i = 0; i < cfg.threads; i++) {
    worker_t *w = &workers[i];
    w->id = i;
    w->nconns = cfg.conns / cfg.threads + (i < cfg.conns % cfg.threads ? 1 : 0);
    w->conns = conns + assigned;
    assigned += w->nconns;
    w->rng = (uint64_t)cfg.seed * 0x100000001b3ULL + (uint64_t)i;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) die("epoll_create1 failed");
    w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->timer_fd < 0) die("timerfd_create failed");
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->timer_fd, &tev);
    w->rate_ns = cfg.rate > 0 ? 1e9 * cfg.threads / cfg.rate : 0;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) die("pthread_create failed");
  }
  pthread_barrier_wait(&barrier); /* all connected (or failed) */
  t_start = now_ns();
  t_measure = t_start + (int64_t)(cfg.warmup_s * 1e9);
  t_end = cfg.duration_s > 0 && cfg.total_ops == 0 ? t_measure + (int64_t)(cfg.duration_s * 1e9) : INT64_MAX;
  pthread_barrier_wait(&barrier);

  struct rusage ru0, ru1;
  sleep_until(t_measure);
  getrusage(RUSAGE_SELF, &ru0);
  int64_t measured_from = now_ns();
  if (measured_from > t_measure) measured_from = t_measure;
  printf("{\"event\":\"measure\"}\n");
  fflush(stdout);
  int64_t measured_to;
  if (t_end != INT64_MAX) {
    sleep_until(t_end);
    if (stop_requested) t_end = now_ns(); /* stopped early: the window ends now */
    measured_to = t_end;
    getrusage(RUSAGE_SELF, &ru1);
    printf("{\"event\":\"end\"}\n");
    fflush(stdout);
    for (int i = 0; i < cfg.threads; i++) pthread_join(workers[i].thread, NULL);
  } else {
    for (int i = 0; i < cfg.threads; i++) pthread_join(workers[i].thread, NULL);
    measured_to = now_ns();
    getrusage(RUSAGE_SELF, &ru1);
    printf("{\"event\":\"end\"}\n");
    fflush(stdout);
  }

  hist_t *h = calloc(1, sizeof *h);
  if (!h) die("out of memory");
  uint64_t ops = 0, errors = 0, entries = 0, bytes = 0, setup = 0, closed = 0, perr = 0, unexpected = 0, unanswered = 0, rc[256] = {0};
  for (int i = 0; i < cfg.threads; i++) {
    worker_t *w = &workers[i];
    hist_merge(h, &w->hist);
    ops += w->ops, errors += w->errors, entries += w->entries, bytes += w->bytes_in, setup += w->setup_errors;
    closed += w->closed, perr += w->protocol_errors, unexpected += w->unexpected, unanswered += w->unanswered;
    for (int j = 0; j < 256; j++) rc[j] += w->rc[j];
  }
  double seconds = (double)(measured_to - measured_from) / 1e9;
  if (seconds <= 0) seconds = 1e-9;
  static const char *modes[] = {"bind", "search", "mixed"};
  printf("{\"mode\":\"%s\",\"host\":", modes[cfg.mode]);
  json_string(cfg.host);
  printf(",\"port\":%d,\"conns\":%d,\"depth\":%d,\"threads\":%d,\"rate\":%.0f,\"seconds\":%.4f,\"ops\":%llu,"
         "\"ops_per_s\":%.1f,\"errors\":%llu,\"rc\":{",
         cfg.port, cfg.conns, cfg.depth, cfg.threads, cfg.rate, seconds, (unsigned long long)ops, (double)ops / seconds,
         (unsigned long long)errors);
  bool first = true;
  for (int j = 0; j < 256; j++)
    if (rc[j]) printf("%s\"%d\":%llu", first ? "" : ",", j, (unsigned long long)rc[j]), first = false;
  printf("},\"entries\":%llu,\"entries_per_op\":%.3f,\"entries_per_s\":%.1f,\"bytes_in\":%llu,", (unsigned long long)entries,
         ops ? (double)entries / (double)ops : 0.0, (double)entries / seconds, (unsigned long long)bytes);
  printf("\"lat_us\":{\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},",
         h->n ? h->sum_ns / (double)h->n / 1000.0 : 0.0, hist_pct_us(h, 50), hist_pct_us(h, 90), hist_pct_us(h, 99),
         hist_pct_us(h, 99.9), (double)h->max_ns / 1000.0);
  printf("\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"setup_errors\":%llu,\"closed\":%llu,\"protocol_errors\":%llu,"
         "\"unexpected\":%llu,\"unanswered\":%llu,\"stopped\":%s}\n",
         cpu_seconds(ru1.ru_utime) - cpu_seconds(ru0.ru_utime), cpu_seconds(ru1.ru_stime) - cpu_seconds(ru0.ru_stime),
         (unsigned long long)setup, (unsigned long long)closed, (unsigned long long)perr, (unsigned long long)unexpected,
         (unsigned long long)unanswered,
         stop_requested ? "true" : "false");
  fflush(stdout);
  return 0;
}
