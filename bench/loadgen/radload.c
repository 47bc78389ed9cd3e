/*
 * radload: a RADIUS load generator over UDP for the ak-outpost bench. One thread, non-blocking sockets, poll.
 * Keeps N requests in flight (closed loop) for S seconds after a warm-up and verifies every answer (code,
 * Response Authenticator, Message-Authenticator when present). Kinds:
 *   pap      Access-Request, User-Password hidden (RFC 2865 5.2), Message-Authenticator (RFC 3579 3.2)
 *   status   Status-Server with Message-Authenticator (RFC 5997)
 *   acct     Accounting-Request (Interim-Update, RFC 2866 Request Authenticator)
 *   retrans  one fixed PAP request per slot (same id and authenticator), sent again and again after it was
 *            answered once: a retransmission answered from the server's duplicate cache
 *   badma    Access-Request with a wrong Message-Authenticator, sent open loop at -r packets/s; no answer is
 *            expected (the caller measures the server's CPU per packet)
 * MD5 and HMAC-MD5 are implemented here (RFC 1321, RFC 2104): no dependencies.
 *
 *   cc -O2 -Wall -o radload radload.c
 *   radload -p PORT -s SECRET -k pap -c 64 -t 3 -W 1 -u users.txt
 *
 * Output: {"event":"measure"} and {"event":"end"} around the measured window, then one JSON result line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------------ MD5 */

typedef struct {
  uint32_t s[4];
  uint64_t len;
  uint8_t buf[64];
  size_t used;
} md5_ctx;

static const uint32_t MD5_K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const uint8_t MD5_R[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9,  14, 20, 5, 9,
                                  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                  4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(md5_ctx *c, const uint8_t *p) {
  uint32_t m[16];
  for (int i = 0; i < 16; i++) m[i] = p[i * 4] | p[i * 4 + 1] << 8 | p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
  uint32_t a = c->s[0], b = c->s[1], cc = c->s[2], d = c->s[3];
  for (int i = 0; i < 64; i++) {
    uint32_t f;
    int g;
    if (i < 16) f = (b & cc) | (~b & d), g = i;
    else if (i < 32) f = (d & b) | (~d & cc), g = (5 * i + 1) % 16;
    else if (i < 48) f = b ^ cc ^ d, g = (3 * i + 5) % 16;
    else f = cc ^ (b | ~d), g = (7 * i) % 16;
    uint32_t t = d;
    d = cc;
    cc = b;
    uint32_t x = a + f + MD5_K[i] + m[g];
    b = b + (x << MD5_R[i] | x >> (32 - MD5_R[i]));
    a = t;
  }
  c->s[0] += a, c->s[1] += b, c->s[2] += cc, c->s[3] += d;
}

static void md5_init(md5_ctx *c) {
  c->s[0] = 0x67452301, c->s[1] = 0xefcdab89, c->s[2] = 0x98badcfe, c->s[3] = 0x10325476;
  c->len = 0, c->used = 0;
}

static void md5_update(md5_ctx *c, const void *data, size_t n) {
  const uint8_t *p = data;
  c->len += n;
  while (n > 0) {
    size_t take = 64 - c->used < n ? 64 - c->used : n;
    memcpy(c->buf + c->used, p, take);
    c->used += take, p += take, n -= take;
    if (c->used == 64) md5_block(c, c->buf), c->used = 0;
  }
}

static void md5_final(md5_ctx *c, uint8_t out[16]) {
  uint64_t bits = c->len * 8;
  uint8_t pad = 0x80, zero = 0;
  md5_update(c, &pad, 1);
  while (c->used != 56) md5_update(c, &zero, 1);
  uint8_t l[8];
  for (int i = 0; i < 8; i++) l[i] = (uint8_t)(bits >> (8 * i));
  md5_update(c, l, 8);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) out[i * 4 + j] = (uint8_t)(c->s[i] >> (8 * j));
}

static void hmac_md5(const uint8_t *key, size_t klen, const uint8_t *msg, size_t n, uint8_t out[16]) {
  uint8_t k[64] = {0}, ipad[64], opad[64], inner[16];
  if (klen > 64) {
    md5_ctx c;
    md5_init(&c), md5_update(&c, key, klen), md5_final(&c, k);
  } else {
    memcpy(k, key, klen);
  }
  for (int i = 0; i < 64; i++) ipad[i] = k[i] ^ 0x36, opad[i] = k[i] ^ 0x5c;
  md5_ctx c;
  md5_init(&c), md5_update(&c, ipad, 64), md5_update(&c, msg, n), md5_final(&c, inner);
  md5_init(&c), md5_update(&c, opad, 64), md5_update(&c, inner, 16), md5_final(&c, out);
}

/* ------------------------------------------------------------------------------------------------ RADIUS */

enum { ACCESS_REQUEST = 1, ACCESS_ACCEPT = 2, ACCESS_REJECT = 3, ACCOUNTING_REQUEST = 4, ACCOUNTING_RESPONSE = 5, STATUS_SERVER = 12 };
enum { A_USER_NAME = 1, A_USER_PASSWORD = 2, A_NAS_IP = 4, A_ACCT_STATUS = 40, A_ACCT_SESSION = 44, A_MSG_AUTH = 80 };
enum kind { K_PAP, K_STATUS, K_ACCT, K_RETRANS, K_BADMA };
static const char *KIND_NAMES[] = {"pap", "status", "acct", "retrans", "badma"};

#define MAX_PACKET 4096

static const char *secret = "";
static size_t secret_len;

static void random_bytes(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)random();
}

static size_t put_attr(uint8_t *p, size_t at, int type, const void *value, size_t n) {
  p[at] = (uint8_t)type, p[at + 1] = (uint8_t)(n + 2);
  memcpy(p + at + 2, value, n);
  return at + 2 + n;
}

/* RFC 2865 5.2: b1 = MD5(S + RA), c1 = p1 xor b1, b2 = MD5(S + c1), ... */
static size_t put_password(uint8_t *p, size_t at, const char *password, const uint8_t auth[16]) {
  size_t n = strlen(password);
  size_t padded = n == 0 ? 16 : (n + 15) / 16 * 16;
  if (padded > 128) padded = 128;
  uint8_t plain[128] = {0};
  memcpy(plain, password, n < padded ? n : padded);
  p[at] = A_USER_PASSWORD, p[at + 1] = (uint8_t)(padded + 2);
  const uint8_t *prev = auth;
  for (size_t off = 0; off < padded; off += 16) {
    uint8_t b[16];
    md5_ctx c;
    md5_init(&c), md5_update(&c, secret, secret_len), md5_update(&c, prev, 16), md5_final(&c, b);
    for (int i = 0; i < 16; i++) p[at + 2 + off + i] = plain[off + i] ^ b[i];
    prev = p + at + 2 + off;
  }
  return at + 2 + padded;
}

/* Appends a Message-Authenticator over the whole packet (length set first); `wrong` flips one bit. */
static size_t put_message_authenticator(uint8_t *p, size_t at, int wrong) {
  uint8_t zero[16] = {0};
  size_t ma = at + 2;
  at = put_attr(p, at, A_MSG_AUTH, zero, 16);
  p[2] = (uint8_t)(at >> 8), p[3] = (uint8_t)at;
  hmac_md5((const uint8_t *)secret, secret_len, p, at, p + ma);
  if (wrong) p[ma] ^= 1;
  return at;
}

static void set_length(uint8_t *p, size_t n) {
  p[2] = (uint8_t)(n >> 8), p[3] = (uint8_t)n;
}

typedef struct {
  char *name;
  char *password;
} user;

static user *users;
static size_t n_users, next_user;
static uint64_t session_counter;

/* Builds one request into p (id set by the caller's slot); returns its length. */
static size_t build_request(enum kind k, uint8_t *p, uint8_t id) {
  static const uint8_t nas_ip[4] = {127, 0, 0, 1};
  p[1] = id;
  size_t at = 20;
  user *u = &users[next_user++ % n_users];
  switch (k) {
    case K_PAP:
    case K_RETRANS:
    case K_BADMA:
      p[0] = ACCESS_REQUEST;
      random_bytes(p + 4, 16);
      at = put_attr(p, at, A_USER_NAME, u->name, strlen(u->name));
      at = put_password(p, at, u->password, p + 4);
      at = put_attr(p, at, A_NAS_IP, nas_ip, 4);
      return put_message_authenticator(p, at, k == K_BADMA);
    case K_STATUS:
      p[0] = STATUS_SERVER;
      random_bytes(p + 4, 16);
      return put_message_authenticator(p, at, 0);
    case K_ACCT: {
      p[0] = ACCOUNTING_REQUEST;
      uint8_t interim[4] = {0, 0, 0, 3};
      char session[32];
      int sn = snprintf(session, sizeof session, "s%llu", (unsigned long long)++session_counter);
      at = put_attr(p, at, A_USER_NAME, u->name, strlen(u->name));
      at = put_attr(p, at, A_ACCT_STATUS, interim, 4);
      at = put_attr(p, at, A_ACCT_SESSION, session, (size_t)sn);
      at = put_attr(p, at, A_NAS_IP, nas_ip, 4);
      set_length(p, at);
      /* RFC 2866 3: MD5(Code + Identifier + Length + 16 zero octets + attributes + secret) */
      memset(p + 4, 0, 16);
      uint8_t auth[16];
      md5_ctx c;
      md5_init(&c), md5_update(&c, p, at), md5_update(&c, secret, secret_len), md5_final(&c, auth);
      memcpy(p + 4, auth, 16);
      return at;
    }
  }
  return 0;
}

/* 0 when the answer is a valid, accepting answer to the request whose authenticator is `req_auth`. */
static int verify_answer(enum kind k, const uint8_t *a, size_t n, const uint8_t req_auth[16], int *rejected) {
  if (n < 20 || ((size_t)a[2] << 8 | a[3]) != n) return -1;
  uint8_t expect[16], copy[MAX_PACKET];
  memcpy(copy, a, n);
  memcpy(copy + 4, req_auth, 16);
  md5_ctx c;
  md5_init(&c), md5_update(&c, copy, n), md5_update(&c, secret, secret_len), md5_final(&c, expect);
  if (memcmp(expect, a + 4, 16) != 0) return -1;
  for (size_t at = 20; at < n;) {
    if (at + 2 > n || a[at + 1] < 2 || at + a[at + 1] > n) return -1;
    if (a[at] == A_MSG_AUTH) {
      if (a[at + 1] != 18) return -1;
      uint8_t mac[16];
      memset(copy + at + 2, 0, 16);
      hmac_md5((const uint8_t *)secret, secret_len, copy, n, mac);
      if (memcmp(mac, a + at + 2, 16) != 0) return -1;
    }
    at += a[at + 1];
  }
  uint8_t want = k == K_ACCT ? ACCOUNTING_RESPONSE : ACCESS_ACCEPT;
  if (k == K_STATUS && a[0] == ACCOUNTING_RESPONSE) want = ACCOUNTING_RESPONSE;
  if (a[0] == ACCESS_REJECT) *rejected = 1;
  return a[0] == want ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------------ the run */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_of(int which) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  const struct timeval *tv = which == 0 ? &r.ru_utime : &r.ru_stime;
  return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

typedef struct {
  int sock;
  uint8_t id;
  uint8_t packet[MAX_PACKET];
  size_t len;
  uint8_t auth[16];
  /* The authenticator of the request before, which timed out: its answer may still come. */
  uint8_t prev_auth[16];
  double sent_at;
  int waiting;
} slot;

/* Latency histogram: 1 us buckets below 100 ms, 1 ms buckets from there to 60 s, then one overflow bucket. */
#define FINE_BUCKETS 100000
#define LAT_BUCKETS (FINE_BUCKETS + 59900 + 1)
static uint64_t lat_hist[LAT_BUCKETS];
static uint64_t lat_count;
static double lat_max;

static void record_latency(double seconds) {
  double us = seconds * 1e6;
  size_t b = us < FINE_BUCKETS ? (size_t)us : FINE_BUCKETS + (size_t)((us - FINE_BUCKETS) / 1000);
  if (b >= LAT_BUCKETS) b = LAT_BUCKETS - 1;
  lat_hist[b]++, lat_count++;
  if (us > lat_max) lat_max = us;
}

static double latency_pct(double q) {
  if (lat_count == 0) return 0;
  uint64_t want = (uint64_t)(q * (double)lat_count), seen = 0;
  for (size_t b = 0; b + 1 < LAT_BUCKETS; b++)
    if ((seen += lat_hist[b]) > want) return b < FINE_BUCKETS ? (double)b : FINE_BUCKETS + (double)(b - FINE_BUCKETS) * 1000;
  return lat_max;
}

static volatile sig_atomic_t stop_requested;
static void on_term(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: radload -p PORT -s SECRET [-h 127.0.0.1] [-k pap|status|acct|retrans|badma] [-c IN_FLIGHT]\n"
          "               [-t SECONDS] [-W WARMUP] [-n TOTAL] [-r RATE (badma)] [-T TIMEOUT_MS] [-u USERS_FILE]\n");
  exit(2);
}

static void load_users(const char *path) {
  if (path == NULL) {
    users = calloc(1, sizeof *users);
    users[0].name = "bench", users[0].password = "bench";
    n_users = 1;
    return;
  }
  FILE *f = fopen(path, "r");
  if (f == NULL) perror(path), exit(2);
  char line[512];
  size_t cap = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\r\n")] = 0;
    char *colon = strchr(line, ':');
    if (colon == NULL || colon == line || strlen(colon + 1) > 128 || colon - line > 200) continue;
    *colon = 0;
    if (n_users == cap) users = realloc(users, (cap = cap ? cap * 2 : 1024) * sizeof *users);
    users[n_users].name = strdup(line), users[n_users].password = strdup(colon + 1);
    n_users++;
  }
  fclose(f);
  if (n_users == 0) fprintf(stderr, "%s: no user:password lines\n", path), exit(2);
}

static long parse_long(const char *s, long min, long max, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *end != 0 || end == s || v < min || v > max) fprintf(stderr, "radload: %s: expected an integer in [%ld, %ld]\n", what, min, max), exit(2);
  return v;
}

static double parse_double(const char *s, double min, double max, const char *what) {
  char *end;
  double v = strtod(s, &end);
  if (*end != 0 || end == s || !(v >= min && v <= max)) fprintf(stderr, "radload: %s: expected a number in [%g, %g]\n", what, min, max), exit(2);
  return v;
}

static int open_socket(const struct sockaddr_in *to) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (s < 0) perror("socket"), exit(1);
  int buf = 4 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (connect(s, (const struct sockaddr *)to, sizeof *to) != 0) perror("connect"), exit(1);
  return s;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *users_path = NULL;
  long port = 0, inflight = 1, total = 0, timeout_ms = 3000;
  double seconds = 5, warmup = 1, rate = 10000;
  enum kind k = K_PAP;
  int opt;
  while ((opt = getopt(argc, argv, "h:p:s:k:c:t:W:n:r:T:u:")) != -1) {
    switch (opt) {
      case 'h': host = optarg; break;
      case 'p': port = parse_long(optarg, 1, 65535, "-p"); break;
      case 's': secret = optarg; break;
      case 'k': {
        int found = -1;
        for (int i = 0; i < 5; i++)
          if (strcmp(optarg, KIND_NAMES[i]) == 0) found = i;
        if (found < 0) fprintf(stderr, "radload: -k: unknown kind %s\n", optarg), exit(2);
        k = (enum kind)found;
        break;
      }
      case 'c': inflight = parse_long(optarg, 1, 65536, "-c"); break;
      case 't': seconds = parse_double(optarg, 0.01, 3600, "-t"); break;
      case 'W': warmup = parse_double(optarg, 0, 600, "-W"); break;
      case 'n': total = parse_long(optarg, 1, 1000000000L, "-n"); break;
      case 'r': rate = parse_double(optarg, 1, 1e7, "-r"); break;
      case 'T': timeout_ms = parse_long(optarg, 1, 60000, "-T"); break;
      case 'u': users_path = optarg; break;
      default: usage();
    }
  }
  if (port == 0 || optind != argc) usage();
  secret_len = strlen(secret);
  if (secret_len == 0) fprintf(stderr, "radload: -s: the shared secret is required\n"), exit(2);
  load_users(users_path);
  srandom((unsigned)(time(NULL) ^ getpid()));
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);

  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &to.sin_addr) != 1) fprintf(stderr, "radload: -h: an IPv4 address is required\n"), exit(2);

  /* 256 identifiers per socket: slot i is socket i / 256, identifier i % 256. */
  size_t n_slots = (size_t)inflight, n_socks = (n_slots + 255) / 256;
  slot *slots = calloc(n_slots, sizeof *slots);
  struct pollfd *pfd = calloc(n_socks, sizeof *pfd);
  for (size_t s = 0; s < n_socks; s++) pfd[s].fd = open_socket(&to), pfd[s].events = POLLIN;
  for (size_t i = 0; i < n_slots; i++) slots[i].sock = pfd[i / 256].fd, slots[i].id = (uint8_t)(i % 256);

  uint64_t ok = 0, wrong = 0, lost = 0, rejected = 0, late = 0, sent = 0, unexpected = 0, send_errors = 0;
  double start = now_s(), measure_at = total > 0 ? start : start + warmup, end_at = measure_at + seconds;
  int measuring = total > 0;
  double cpu_u0 = cpu_of(0), cpu_s0 = cpu_of(1);
  if (measuring) printf("{\"event\":\"measure\"}\n"), fflush(stdout);
  uint64_t ok_at_measure = 0, sent_at_measure = 0;
  double window_start = measure_at;

  /* Sends slot i's packet (building a new one unless it is a fixed retransmission already built). */
  #define SEND(i)                                                                                    \
    do {                                                                                             \
      slot *sl_ = &slots[i];                                                                         \
      if (k != K_RETRANS || sl_->len == 0) {                                                         \
        memcpy(sl_->prev_auth, sl_->auth, 16);                                                       \
        sl_->len = build_request(k, sl_->packet, sl_->id);                                           \
        memcpy(sl_->auth, sl_->packet + 4, 16);                                                      \
      }                                                                                              \
      sl_->sent_at = now_s();                                                                        \
      sl_->waiting = 1;                                                                              \
      if (send(sl_->sock, sl_->packet, sl_->len, 0) < 0) send_errors++;                              \
      else sent++;                                                                                   \
    } while (0)

  if (k == K_BADMA) {
    /* Open loop: packets at `rate` per second round-robin over the slots; answers are unexpected. */
    double next = now_s();
    size_t i = 0;
    uint8_t buf[MAX_PACKET];
    while (!stop_requested) {
      double t = now_s();
      if (!measuring && t >= measure_at) {
        measuring = 1, sent_at_measure = sent, window_start = t, cpu_u0 = cpu_of(0), cpu_s0 = cpu_of(1);
        printf("{\"event\":\"measure\"}\n"), fflush(stdout);
      }
      if (measuring && (t >= end_at || (total > 0 && sent >= (uint64_t)total))) break;
      while (next <= t) {
        SEND(i);
        i = (i + 1) % n_slots;
        next += 1.0 / rate;
      }
      for (size_t s = 0; s < n_socks; s++)
        while (recv(pfd[s].fd, buf, sizeof buf, 0) > 0) unexpected++;
      /* Sleep until the next packet is due (never spin: the generator shares the CPUs with the server). */
      double wait = next - now_s();
      if (wait > 0) usleep((useconds_t)(wait * 1e6 > 1000 ? 1000 : wait * 1e6 + 1));
    }
  } else {
    /* retrans: each slot's fixed request is answered once in the warm-up (it reaches the core then). */
    for (size_t i = 0; i < n_slots; i++) SEND(i);
    uint8_t buf[MAX_PACKET];
    double last_scan = now_s();
    while (!stop_requested) {
      double t = now_s();
      if (!measuring && t >= measure_at) {
        measuring = 1, ok_at_measure = ok, sent_at_measure = sent, window_start = t;
        wrong = lost = rejected = late = unexpected = 0;
        memset(lat_hist, 0, sizeof lat_hist), lat_count = 0, lat_max = 0;
        cpu_u0 = cpu_of(0), cpu_s0 = cpu_of(1);
        printf("{\"event\":\"measure\"}\n"), fflush(stdout);
      }
      if (measuring && (total > 0 ? ok + wrong + lost >= (uint64_t)total || t - start > seconds + warmup + 30 : t >= end_at)) break;
      int ready = poll(pfd, (nfds_t)n_socks, 10);
      if (ready < 0 && errno != EINTR) perror("poll"), exit(1);
      for (size_t s = 0; s < n_socks && ready > 0; s++) {
        if (!(pfd[s].revents & POLLIN)) continue;
        for (;;) {
          ssize_t n = recv(pfd[s].fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          size_t i = s * 256 + buf[1];
          if (n < 20 || i >= n_slots) {
            unexpected++;
            continue;
          }
          slot *sl = &slots[i];
          if (!sl->waiting) {
            late++; /* an answer to a request already counted lost, or a duplicate answer */
            continue;
          }
          int rej = 0, late_rej = 0;
          if (verify_answer(k, buf, (size_t)n, sl->auth, &rej) == 0) {
            ok++;
            record_latency(now_s() - sl->sent_at);
          } else if (k != K_RETRANS && verify_answer(k, buf, (size_t)n, sl->prev_auth, &late_rej) == 0) {
            late++; /* the answer to the request before, counted lost: keep waiting for this one's */
            continue;
          } else {
            wrong++;
            if (rej) rejected++;
          }
          sl->waiting = 0;
          SEND(i);
        }
      }
      t = now_s();
      if (t - last_scan >= 0.01) {
        last_scan = t;
        for (size_t i = 0; i < n_slots; i++)
          if (slots[i].waiting && t - slots[i].sent_at > timeout_ms / 1000.0) {
            lost++;
            SEND(i);
          }
      }
    }
  }
  double window_end = now_s();
  printf("{\"event\":\"end\"}\n"), fflush(stdout);
  double elapsed = window_end - window_start;
  if (elapsed <= 0) elapsed = 1e-9;
  uint64_t done = ok - ok_at_measure, sent_window = sent - sent_at_measure;
  if (k == K_BADMA) done = 0;
  printf("{\"kind\":\"%s\",\"in_flight\":%ld,\"seconds\":%.6f,\"ops\":%llu,\"ops_per_s\":%.1f,\"sent\":%llu,\"sent_per_s\":%.1f,"
         "\"wrong\":%llu,\"rejected\":%llu,\"lost\":%llu,\"late\":%llu,\"unexpected\":%llu,\"send_errors\":%llu,"
         "\"lat_us\":{\"p50\":%.0f,\"p99\":%.0f,\"max\":%.0f},\"cpu_user_s\":%.4f,\"cpu_sys_s\":%.4f}\n",
         KIND_NAMES[k], inflight, elapsed, (unsigned long long)done, done / elapsed, (unsigned long long)sent_window, sent_window / elapsed,
         (unsigned long long)wrong, (unsigned long long)rejected, (unsigned long long)lost, (unsigned long long)late,
         (unsigned long long)unexpected, (unsigned long long)send_errors, latency_pct(0.5), latency_pct(0.99), lat_max,
         cpu_of(0) - cpu_u0, cpu_of(1) - cpu_s0);
  return 0;
}
