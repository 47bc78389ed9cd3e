/** What a successful bind leaves on the connection (LdapConnectionView.authState). Never logged. */
export interface LdapAuthState {
  readonly providerPk: number;
  /** The bind DN as the client sent it. */
  readonly dn: string;
  readonly normalizedDn: string;
  readonly userPk: number;
  readonly username: string;
  readonly canSearch: boolean;
  /** sha256 hex of the core session key (SESSION_END), when known. */
  readonly sessionHash: string | undefined;
  /** The core session cookie, to run the unbind flow in the user's session. */
  readonly sessionCookie: string | undefined;
}

export function authStateOf(value: unknown): LdapAuthState | undefined {
  return value !== null && typeof value === 'object' && 'providerPk' in value ? (value as LdapAuthState) : undefined;
}
