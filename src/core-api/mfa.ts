/**
 * The `password;code` rule (reference plumbing §2.6, table §5.2). Kept in one place because upstream development
 * code is dropping the 6-or-8-character rule; released 2023.10 … 2026.5 keep it, and so do we.
 */

export interface SplitSecrets {
  /** Answer for identification/password stages. */
  password: string;
  /** Answer for a TOTP/static device in authenticator-validate; '' = none. */
  code: string;
}

const EIGHT_ALNUM = /^[a-zA-Z0-9]{8}$/;
// Go's strconv.Atoi: optional sign, then decimal digits only.
const GO_ATOI = /^[+-]?[0-9]+$/;

export function splitPasswordAndCode(password: string, mfaSupport: boolean): SplitSecrets {
  // Without MFA support the whole password also answers a code prompt (flows whose only factor is TOTP).
  if (!mfaSupport) return { password, code: password };
  const at = password.lastIndexOf(';');
  if (at < 0 || at === password.length - 1) return { password, code: '' };
  const suffix = password.slice(at + 1);
  const isCode = suffix.length === 6 ? GO_ATOI.test(suffix) : suffix.length === 8 && EIGHT_ALNUM.test(suffix);
  if (!isCode) return { password, code: '' };
  return { password: password.slice(0, at), code: suffix };
}

/** Answers of one flow attempt: once either answer is non-empty, later calls are no-ops (the reference's SetSecrets). */
export class FlowSecrets {
  #answers: SplitSecrets | undefined;

  set(password: string, mfaSupport: boolean): void {
    if (this.password !== '' || this.code !== '') return;
    this.#answers = splitPasswordAndCode(password, mfaSupport);
  }

  /** A code typed after a prompt (RADIUS Access-Challenge); a code already set is kept. */
  setCode(code: string): void {
    if (this.code !== '') return;
    this.#answers = { password: this.password, code };
  }

  get password(): string {
    return this.#answers?.password ?? '';
  }

  get code(): string {
    return this.#answers?.code ?? '';
  }
}

/** Go's strconv.ParseInt(s, 10, 32): used for the Duo device id. */
export function parseInt32(s: string): number | undefined {
  if (!GO_ATOI.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : undefined;
}
