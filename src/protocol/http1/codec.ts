/**
 * HTTP/1.1 client messages (RFC 9112), no I/O: a request serialized into one buffer, and an incremental
 * response parser. Enough for the core's REST API: Content-Length, chunked and close-delimited bodies, 1xx
 * interim responses skipped, HEAD/204/304 without a body, keep-alive decided per response. Bounded: the header
 * section, the header count and the body each have a limit, and anything malformed is an Http1Error (the
 * connection is then discarded, never reused).
 */

export class Http1Error extends Error {
  constructor(
    message: string,
    /**
     * protocol: malformed or unsupported; oversize: the body outgrew maxBodyBytes; closed: the peer closed the
     * connection before the response was complete (a transport failure, not the server's answer).
     */
    readonly kind: 'protocol' | 'oversize' | 'closed' = 'protocol',
  ) {
    super(message);
    this.name = 'Http1Error';
  }
}

export interface Http1Limits {
  /** Most bytes of a header section (status line included). */
  maxHeaderBytes: number;
  /** Most header lines in one response. */
  maxHeaders: number;
  /** Most body bytes (after chunked decoding). */
  maxBodyBytes: number;
}

export const DEFAULT_HTTP1_LIMITS: Readonly<Http1Limits> = Object.freeze({
  maxHeaderBytes: 64 * 1024,
  maxHeaders: 256,
  maxBodyBytes: 32 * 1024 * 1024,
});

/** Lower-case names; Set-Cookie kept as a list, other repeated headers joined with ", " (as node:http does). */
export type Http1Headers = Record<string, string | string[] | undefined>;

export interface Http1Response {
  status: number;
  headers: Http1Headers;
  setCookie: string[];
  body: Buffer;
  /** The connection may carry another request (HTTP/1.1 without `Connection: close`, length-delimited body). */
  reusable: boolean;
}

// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// request-target in origin form: no spaces or controls.
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;

/**
 * One request as a single buffer. Every name and value is checked, so nothing that reaches a header (a client
 * address, a cookie the core set) can split the request.
 */
export function serializeRequest(method: string, target: string, host: string, headers: Readonly<Record<string, string>>, body?: Buffer | string): Buffer {
  if (!TOKEN.test(method)) throw new Http1Error(`invalid method ${JSON.stringify(method)}`);
  if (!ORIGIN_FORM.test(target)) throw new Http1Error('invalid request target');
  if (!FIELD_VALUE.test(host) || host === '') throw new Http1Error('invalid Host');
  let head = `${method} ${target} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
    if (!TOKEN.test(name)) throw new Http1Error(`invalid header name ${JSON.stringify(name)}`);
    if (!FIELD_VALUE.test(value)) throw new Http1Error(`invalid value of header ${name}`);
    head += `${name}: ${value}\r\n`;
  }
  if (body === undefined) {
    // A body-less POST still states its length, so the server does not wait for one.
    if (method !== 'GET' && method !== 'HEAD') head += 'content-length: 0\r\n';
    return Buffer.from(head + '\r\n', 'latin1');
  }
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  head += `content-length: ${bodyBytes.length}\r\n\r\n`;
  const headBytes = Buffer.from(head, 'latin1');
  return Buffer.concat([headBytes, bodyBytes], headBytes.length + bodyBytes.length);
}

const enum State {
  head,
  fixed,
  chunkSize,
  chunkData,
  chunkDataEnd,
  trailers,
  untilClose,
  done,
}

export type ParseStep = { done: false } | { done: true; response: Http1Response };
const MORE: ParseStep = Object.freeze({ done: false });

/** Response parser for one request. push() the bytes as they come; end() when the peer closes. */
export class ResponseParser {
  private state = State.head;
  private pending: Buffer | null = null;
  private status = 0;
  private headers: Http1Headers = {};
  private setCookie: string[] = [];
  private keepAlive = true;
  private remaining = 0;
  private readonly chunks: Buffer[] = [];
  private bodyBytes = 0;
  private trailerBytes = 0;
  /** Bytes received for this response at all (a reused socket that fails before any is merely stale). */
  received = 0;

  constructor(
    private readonly method: string,
    private readonly limits: Http1Limits = DEFAULT_HTTP1_LIMITS,
  ) {}

  push(chunk: Buffer): ParseStep {
    if (this.state === State.done) throw new Http1Error('data after the end of the response');
    this.received += chunk.length;
    let data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let offset = 0;
    while (offset < data.length || this.state === State.done) {
      switch (this.state) {
        case State.head: {
          const { lineEnd, next } = headEnd(data, offset);
          if (lineEnd < 0) {
            if (data.length - offset > this.limits.maxHeaderBytes) throw new Http1Error('response header section too large');
            this.pending = data.subarray(offset);
            return MORE;
          }
          if (next - offset > this.limits.maxHeaderBytes) throw new Http1Error('response header section too large');
          const interim = this.parseHead(data.toString('latin1', offset, lineEnd));
          offset = next;
          if (!interim) this.startBody();
          break;
        }
        case State.chunkSize: {
          const eol = data.indexOf(0x0a, offset);
          if (eol < 0) {
            if (data.length - offset > 1024) throw new Http1Error('chunk size line too long');
            this.pending = data.subarray(offset);
            return MORE;
          }
          const line = data.toString('latin1', offset, eol).replace(/\r$/, '');
          const sizeText = line.split(';', 1)[0]!.trim();
          if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Http1Error('invalid chunk size');
          const size = Number.parseInt(sizeText, 16);
          offset = eol + 1;
          if (size === 0) this.state = State.trailers;
          else {
            if (this.bodyBytes + size > this.limits.maxBodyBytes) throw oversize(this.limits);
            this.remaining = size;
            this.state = State.chunkData;
          }
          break;
        }
        case State.fixed:
        case State.chunkData: {
          const take = Math.min(this.remaining, data.length - offset);
          this.addBody(data.subarray(offset, offset + take));
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.state === State.fixed ? State.done : State.chunkDataEnd;
          break;
        }
        case State.chunkDataEnd: {
          // CRLF (or a bare LF) after the chunk's data.
          if (data[offset] === 0x0d) {
            if (offset + 1 >= data.length) {
              this.pending = data.subarray(offset);
              return MORE;
            }
            offset++;
          }
          if (data[offset] !== 0x0a) throw new Http1Error('chunk data not followed by CRLF');
          offset++;
          this.state = State.chunkSize;
          break;
        }
        case State.trailers: {
          const eol = data.indexOf(0x0a, offset);
          if (eol < 0) {
            if (this.trailerBytes + data.length - offset > this.limits.maxHeaderBytes) throw new Http1Error('response trailers too large');
            this.pending = data.subarray(offset);
            return MORE;
          }
          const lineLength = eol - offset;
          this.trailerBytes += lineLength + 1;
          if (this.trailerBytes > this.limits.maxHeaderBytes) throw new Http1Error('response trailers too large');
          offset = eol + 1;
          // Trailer fields are read past and dropped; the empty line ends the message.
          if (lineLength === 0 || (lineLength === 1 && data[eol - 1] === 0x0d)) this.state = State.done;
          break;
        }
        case State.untilClose: {
          this.addBody(data.subarray(offset));
          offset = data.length;
          break;
        }
        case State.done: {
          // A client that does not pipeline never expects bytes after a response: the connection is not reused.
          if (offset < data.length) this.keepAlive = false;
          return { done: true, response: this.response() };
        }
      }
    }
    return MORE;
  }

  /** The peer closed the connection: completes a close-delimited body, else the response was cut short. */
  end(): ParseStep {
    if (this.state === State.untilClose) {
      this.state = State.done;
      this.keepAlive = false;
      return { done: true, response: this.response() };
    }
    if (this.state === State.done) return { done: true, response: this.response() };
    throw new Http1Error(this.received === 0 ? 'connection closed before any response' : 'connection closed mid-response', 'closed');
  }

  /** Parses a header section; true when it was an interim (1xx) response to skip. */
  private parseHead(text: string): boolean {
    const lines = text.split('\n');
    const statusLine = lines[0]!.replace(/\r$/, '');
    const match = /^HTTP\/1\.([01]) ([0-9]{3})(?: .*)?$/.exec(statusLine);
    if (match === null) throw new Http1Error('invalid status line');
    const minor = match[1]!;
    const status = Number(match[2]);
    if (status < 100) throw new Http1Error('invalid status code');
    if (lines.length - 1 > this.limits.maxHeaders) throw new Http1Error('too many response headers');
    const headers: Http1Headers = {};
    const setCookie: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!.replace(/\r$/, '');
      if (line === '') continue;
      if (line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) throw new Http1Error('obsolete header line folding');
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Http1Error('invalid header line');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) throw new Http1Error('invalid header name');
      const value = line.slice(colon + 1).trim();
      if (!FIELD_VALUE.test(value)) throw new Http1Error('invalid header value');
      const key = name.toLowerCase();
      if (key === 'set-cookie') {
        setCookie.push(value);
        continue;
      }
      const previous = headers[key];
      headers[key] = previous === undefined ? value : `${previous as string}, ${value}`;
    }
    if (status >= 100 && status < 200) {
      if (status === 101) throw new Http1Error('unexpected protocol switch');
      return true;
    }
    if (setCookie.length > 0) headers['set-cookie'] = setCookie;
    this.status = status;
    this.headers = headers;
    this.setCookie = setCookie;
    const connection = tokens(headers['connection']);
    this.keepAlive = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    return false;
  }

  /** RFC 9112 6.3: how the body is delimited. */
  private startBody(): void {
    const status = this.status;
    if (this.method === 'HEAD' || status === 204 || status === 304) {
      this.state = State.done;
      return;
    }
    const transferEncoding = headerText(this.headers['transfer-encoding']);
    if (transferEncoding !== undefined) {
      const codings = tokens(transferEncoding);
      // With Transfer-Encoding, Content-Length is ignored and the connection is not reused afterwards.
      if (this.headers['content-length'] !== undefined) this.keepAlive = false;
      if (codings[codings.length - 1] === 'chunked') {
        if (codings.length !== 1) throw new Http1Error(`unsupported transfer coding ${transferEncoding}`);
        this.state = State.chunkSize;
      } else {
        this.keepAlive = false;
        this.state = State.untilClose;
      }
      return;
    }
    const lengthText = headerText(this.headers['content-length']);
    if (lengthText !== undefined) {
      // Repeated equal values ("5, 5") are one length; anything else is an error.
      const values = new Set(lengthText.split(',').map((v) => v.trim()));
      const [only] = values;
      if (values.size !== 1 || only === undefined || !/^[0-9]{1,15}$/.test(only)) throw new Http1Error('invalid Content-Length');
      const length = Number(only);
      if (length > this.limits.maxBodyBytes) throw oversize(this.limits);
      this.remaining = length;
      this.state = length === 0 ? State.done : State.fixed;
      return;
    }
    this.keepAlive = false;
    this.state = State.untilClose;
  }

  private addBody(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.bodyBytes += bytes.length;
    if (this.bodyBytes > this.limits.maxBodyBytes) throw oversize(this.limits);
    this.chunks.push(bytes);
  }

  private response(): Http1Response {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bodyBytes);
    return { status: this.status, headers: this.headers, setCookie: this.setCookie, body, reusable: this.keepAlive };
  }
}

/**
 * Where a header section ends: the LF that ends its last line (`lineEnd`, -1 when the blank line has not
 * arrived) and the first byte after the blank line (CRLF, or a bare LF as RFC 9112 2.2 allows).
 */
function headEnd(data: Buffer, from: number): { lineEnd: number; next: number } {
  for (let i = data.indexOf(0x0a, from); i >= 0; i = data.indexOf(0x0a, i + 1)) {
    if (data[i + 1] === 0x0a) return { lineEnd: i, next: i + 2 };
    if (data[i + 1] === 0x0d && data[i + 2] === 0x0a) return { lineEnd: i, next: i + 3 };
  }
  return { lineEnd: -1, next: -1 };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function tokens(value: string | string[] | undefined): string[] {
  const text = headerText(value);
  if (text === undefined) return [];
  return text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

function oversize(limits: Http1Limits): Http1Error {
  return new Http1Error(`response body larger than ${limits.maxBodyBytes} bytes`, 'oversize');
}
