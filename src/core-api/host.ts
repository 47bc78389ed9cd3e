/**
 * AUTHENTIK_HOST normalisation (reference plumbing §1.4, §5.4): the path is a sub-path prefix that always ends in
 * '/', the API lives under `<path>api/v3`, and `unix://<socket>` talks plain HTTP over a unix socket with Host
 * `localhost`. The query is kept for the websocket URL only.
 */
import { ConfigError } from '../errors.js';

export interface CoreEndpoint {
  /** `scheme://host[:port]/sub/path/`, always ending in '/'. For unix sockets `http://localhost/`. */
  normalizedHost: string;
  /** `<normalizedHost>api/v3`, no trailing slash. */
  apiBase: string;
  /** `scheme://host[:port]` of every request (redirects must stay on it). */
  origin: string;
  secure: boolean;
  /** Set for `unix://` hosts: connect here instead of TCP. */
  socketPath: string | undefined;
  /** AUTHENTIK_HOST's query including '?', or '' (copied onto the websocket URL). */
  search: string;
}

export function parseAuthentikHost(raw: string): CoreEndpoint {
  const text = raw.trim();
  if (text === '') throw new ConfigError('AUTHENTIK_HOST', 'not set');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('AUTHENTIK_HOST', 'not a valid URL (expected http://, https:// or unix://)');
  }
  if (url.protocol === 'unix:') {
    // unix:///run/authentik/core.sock: the whole path is the socket; no sub-path is possible.
    if (url.host !== '' || url.pathname === '' || url.pathname === '/') {
      throw new ConfigError('AUTHENTIK_HOST', 'unix:// needs an absolute socket path (unix:///path/to/socket)');
    }
    return {
      normalizedHost: 'http://localhost/',
      apiBase: 'http://localhost/api/v3',
      origin: 'http://localhost',
      secure: false,
      socketPath: decodeURIComponent(url.pathname),
      search: url.search,
    };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('AUTHENTIK_HOST', `unsupported scheme ${url.protocol} (expected http, https or unix)`);
  }
  if (url.hostname === '') throw new ConfigError('AUTHENTIK_HOST', 'has no host name');
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const normalizedHost = `${url.origin}${path}`;
  return {
    normalizedHost,
    apiBase: `${normalizedHost}api/v3`,
    origin: url.origin,
    secure: url.protocol === 'https:',
    socketPath: undefined,
    search: url.search,
  };
}
