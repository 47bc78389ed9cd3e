/**
 * The stages the embedded core supports, with authentik's validation rules and error strings:
 * identification, password, authenticator_validate (TOTP, static, Duo), user_login, user_logout, deny.
 * Each stage answers a GET or POST with an outcome; the executor (engine.ts) turns outcomes into HTTP responses.
 */
import type { CoreFlow, CoreStage, CoreUser, Directory, Generation } from '../model.js';
import { verifyPassword } from '../directory/passwords.js';
import { EmbeddedDirectory, foldCase } from '../directory/store.js';
import { parseTimedelta } from '../directory/timedelta.js';
import { verifyTotp } from '../directory/totp.js';
import { Instant } from '../time.js';
import { type ChallengeBody, type ChallengeFactory, type DisplayUser, withErrors } from './challenges.js';
import { type Body, bodyAsObject, booleanField, charField, FieldErrors, integerField } from './fields.js';
import type { DeviceClass, FlowPlan, OfferedDeviceChallenge } from './plan.js';
import type { Session, SessionStore } from './sessions.js';

export type StageOutcome =
  | { kind: 'challenge'; body: ChallengeBody }
  /** Stage passed: next stage (302) or flow done. */
  | { kind: 'ok' }
  /** authentik's stage_invalid: plan cancelled, access denied with this message. */
  | { kind: 'invalid'; message?: string }
  /** Something authentik would raise from inside a stage (e.g. Http404 for an unknown Duo device). */
  | { kind: 'error'; reason: string };

export interface StageContext {
  readonly directory: Directory;
  readonly generation: Generation;
  readonly flow: CoreFlow;
  readonly plan: FlowPlan;
  readonly factory: ChallengeFactory;
  readonly sessions: SessionStore;
  readonly nowMs: number;
  readonly remoteIp: string;
  /** The session holding the plan. */
  session(): Session;
  /** user_logout: the request continues on a fresh session. */
  replaceSession(session: Session): void;
  /** Pending user from the plan, resolved against the current directory. */
  pendingUser(): CoreUser | undefined;
  /** User shown in challenges (pending user, else session user, else nobody). */
  display(): DisplayUser;
  /** authentik sleeps a little after an unknown identifier, against user enumeration. */
  unknownIdentifierDelay(): Promise<void>;
}

type Method = 'GET' | 'POST';

export async function runStage(stage: CoreStage, ctx: StageContext, method: Method, body: unknown): Promise<StageOutcome> {
  switch (stage.kind) {
    case 'identification':
      return method === 'GET' ? identificationChallenge(stage, ctx) : identificationPost(stage, ctx, body);
    case 'password':
      return method === 'GET' ? passwordChallenge(ctx) : passwordPost(stage, ctx, body);
    case 'authenticator_validate':
      return method === 'GET' ? authenticatorGet(stage, ctx) : authenticatorPost(stage, ctx, body);
    case 'user_login':
      return userLogin(stage, ctx, method, body);
    case 'user_logout':
      return userLogout(ctx);
    case 'deny':
      return { kind: 'invalid', ...(stage.deny_message !== undefined ? { message: stage.deny_message } : {}) };
  }
}

function invalidResponse(challenge: ChallengeBody, errors: FieldErrors['errors']): StageOutcome {
  return { kind: 'challenge', body: withErrors(challenge, errors) };
}

// ---------------------------------------------------------------------------------------------------------------
// identification

type IdentificationStage = Extract<CoreStage, { kind: 'identification' }>;
type UserField = 'username' | 'email' | 'upn';

function identificationBody(stage: IdentificationStage, ctx: StageContext): ChallengeBody {
  return ctx.factory.identification(ctx.flow, { userFields: stage.user_fields, passwordFields: stage.password_stage });
}

function identificationChallenge(stage: IdentificationStage, ctx: StageContext): StageOutcome {
  return { kind: 'challenge', body: identificationBody(stage, ctx) };
}

/**
 * authentik's get_user with case_insensitive_matching (its default): every configured field is matched with
 * `__iexact` and the lowest pk among all matches wins (`.first()`). Inactive users are found too; the password
 * check refuses them.
 */
export function identifyUser(directory: Directory, value: string, fields: readonly UserField[]): CoreUser | undefined {
  let best: CoreUser | undefined;
  for (const field of fields) {
    const found = field === 'username' ? byUsernameFolded(directory, value) : field === 'email' ? directory.userByEmail(value) : byUpnFolded(directory, value);
    if (found !== undefined && (best === undefined || found.pk < best.pk)) best = found;
  }
  return best;
}

function byUsernameFolded(directory: Directory, value: string): CoreUser | undefined {
  if (directory instanceof EmbeddedDirectory) return directory.userByUsernameFolded(value);
  const folded = foldCase(value);
  for (const user of directory.users.values()) if (foldCase(user.username) === folded) return user;
  return undefined;
}

function byUpnFolded(directory: Directory, value: string): CoreUser | undefined {
  if (directory instanceof EmbeddedDirectory) return directory.userByUpnFolded(value);
  const folded = foldCase(value);
  let best: CoreUser | undefined;
  for (const user of directory.users.values()) {
    const upn = user.attributes['upn'];
    if (typeof upn === 'string' && upn !== '' && foldCase(upn) === folded && (best === undefined || user.pk < best.pk)) best = user;
  }
  return best;
}

/** Password check of authentik's inbuilt backend: right hash, and the account is active. */
async function authenticate(user: CoreUser, password: string): Promise<boolean> {
  const matches = await verifyPassword(password, user.passwordHash);
  return matches && user.isActive;
}

async function identificationPost(stage: IdentificationStage, ctx: StageContext, body: unknown): Promise<StageOutcome> {
  const challenge = identificationBody(stage, ctx);
  const parsed = bodyAsObject(body);
  if ('errors' in parsed) return invalidResponse(challenge, parsed.errors);
  const errors = new FieldErrors();
  // 2023.10: uid_field is a required CharField; since 2024 it is optional and checked in validate().
  const uid =
    ctx.generation === '2023.10'
      ? charField(parsed.data, 'uid_field', errors, { required: true })
      : charField(parsed.data, 'uid_field', errors, { allowBlank: true, allowNull: true });
  const password = charField(parsed.data, 'password', errors, { allowBlank: true, allowNull: true });
  checkComponent(parsed.data, errors);
  if (!errors.empty) return invalidResponse(challenge, errors.errors);
  const nonField = (message: string): StageOutcome => invalidResponse(challenge, { non_field_errors: [{ string: message, code: 'invalid' }] });
  if (uid === undefined || uid === null || uid === '') return nonField('No identification data provided.');

  const user = identifyUser(ctx.directory, uid, stage.user_fields);
  if (user === undefined) {
    await ctx.unknownIdentifierDelay();
    return nonField('Failed to authenticate.');
  }
  if (stage.password_stage) {
    if (!(await authenticate(user, password ?? ''))) return nonField('Failed to authenticate.');
    ctx.plan.context.authMethod = 'password';
  }
  ctx.plan.context.pendingUserPk = user.pk;
  return { kind: 'ok' };
}

/** ChallengeResponse.component is a CharField with a default: only its type is checked, never its value. */
function checkComponent(data: Body, errors: FieldErrors): void {
  if (data['component'] !== undefined) charField(data, 'component', errors, { allowBlank: false });
}

// ---------------------------------------------------------------------------------------------------------------
// password

type PasswordStage = Extract<CoreStage, { kind: 'password' }>;

function passwordChallenge(ctx: StageContext): StageOutcome {
  return { kind: 'challenge', body: ctx.factory.password(ctx.flow, ctx.display()) };
}

async function passwordPost(stage: PasswordStage, ctx: StageContext, body: unknown): Promise<StageOutcome> {
  const challenge = ctx.factory.password(ctx.flow, ctx.display());
  const parsed = bodyAsObject(body);
  if ('errors' in parsed) return invalidResponse(challenge, parsed.errors);
  const errors = new FieldErrors();
  // 2023.10's PasswordChallengeResponse trimmed whitespace; later versions keep the password as typed.
  const password = charField(parsed.data, 'password', errors, { required: true, trim: ctx.generation === '2023.10' });
  checkComponent(parsed.data, errors);
  if (!errors.empty || password === undefined || password === null) return invalidResponse(challenge, errors.errors);
  if (ctx.plan.context.pendingUserPk === undefined) return { kind: 'invalid' };
  const user = ctx.pendingUser();
  if (user !== undefined && (await authenticate(user, password))) {
    ctx.plan.context.authMethod = 'password';
    return { kind: 'ok' };
  }
  ctx.plan.context.passwordFailures++;
  if (ctx.plan.context.passwordFailures >= (stage.failed_attempts_before_cancel)) {
    return { kind: 'invalid', message: 'Invalid password' };
  }
  return invalidResponse(challenge, { password: [{ string: 'Invalid password', code: 'invalid' }] });
}

// ---------------------------------------------------------------------------------------------------------------
// authenticator_validate

type ValidateStage = Extract<CoreStage, { kind: 'authenticator_validate' }>;
/** Device classes in the order authentik's devices_for_user yields them (app registry order). */
const CLASS_ORDER: readonly DeviceClass[] = ['duo', 'static', 'totp'];

/** One challenge per device class (the first device of that class), like authentik for non-WebAuthn classes. */
function offeredChallenges(stage: ValidateStage, user: CoreUser): OfferedDeviceChallenge[] {
  const allowed = new Set(stage.device_classes);
  const out: OfferedDeviceChallenge[] = [];
  for (const deviceClass of CLASS_ORDER) {
    if (!allowed.has(deviceClass)) continue;
    const device = deviceClass === 'duo' ? user.duo[0] : deviceClass === 'static' ? user.staticTokens[0] : user.totp[0];
    if (device === undefined) continue;
    out.push({ deviceClass, deviceUid: String(device.pk), lastUsed: device.lastUsed?.toDrf() ?? null });
  }
  return out;
}

function authenticatorGet(stage: ValidateStage, ctx: StageContext): StageOutcome {
  const user = ctx.pendingUser();
  // No pending user: authentik skips the stage (passwordless WebAuthn is not supported here).
  if (user === undefined) return { kind: 'ok' };
  const offered = offeredChallenges(stage, user);
  ctx.plan.context.deviceChallenges = offered;
  if (offered.length === 0) return stage.not_configured_action === 'deny' ? { kind: 'invalid' } : { kind: 'ok' };
  return { kind: 'challenge', body: ctx.factory.authenticatorValidate(ctx.flow, ctx.display(), offered) };
}

function selectedChallengeMatches(value: unknown, offered: readonly OfferedDeviceChallenge[]): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { device_class: deviceClass, device_uid: deviceUid } = value as Record<string, unknown>;
  return offered.some((c) => c.deviceClass === deviceClass && c.deviceUid === deviceUid);
}

/** authentik's match_token: every static device, then every TOTP device, of the user (whatever was selected). */
function matchToken(user: CoreUser, code: string, nowMs: number): { deviceClass: DeviceClass; pk: number } | undefined {
  for (const device of user.staticTokens) {
    if (device.tokens.delete(code)) {
      device.lastUsed = Instant.fromEpochMs(nowMs);
      return { deviceClass: 'static', pk: device.pk };
    }
  }
  for (const device of user.totp) {
    if (verifyTotp(device, code, nowMs)) return { deviceClass: 'totp', pk: device.pk };
  }
  return undefined;
}

async function authenticatorPost(stage: ValidateStage, ctx: StageContext, body: unknown): Promise<StageOutcome> {
  const user = ctx.pendingUser();
  if (user === undefined) return { kind: 'ok' };
  const offered = ctx.plan.context.deviceChallenges ?? offeredChallenges(stage, user);
  ctx.plan.context.deviceChallenges = offered;
  const challenge = ctx.factory.authenticatorValidate(ctx.flow, ctx.display(), offered);
  const parsed = bodyAsObject(body);
  if ('errors' in parsed) return invalidResponse(challenge, parsed.errors);
  const data = parsed.data;
  const errors = new FieldErrors();
  const offeredClasses = new Set(offered.map((c) => c.deviceClass));
  const notAllowed = { string: 'No compatible device class allowed', code: 'invalid' };

  const selected = data['selected_challenge'];
  const selectionOk = selected === undefined || selectedChallengeMatches(selected, offered);
  if (!selectionOk) errors.add('selected_challenge', { string: 'invalid challenge selected', code: 'invalid' });
  if (data['selected_stage'] !== undefined) errors.add('selected_stage', { string: 'Selected stage is invalid', code: 'invalid' });

  let usedDevice: { deviceClass: DeviceClass; pk: number } | undefined;
  const code = charField(data, 'code', errors, {});
  // Deliberate difference: authentik also validates (and may consume) a code next to an invalid selection.
  if (typeof code === 'string' && selectionOk) {
    if (!offeredClasses.has('totp') && !offeredClasses.has('static')) errors.add('code', notAllowed);
    else {
      usedDevice = matchToken(user, code, ctx.nowMs);
      if (usedDevice === undefined) errors.add('code', { string: 'Invalid Token', code: 'invalid' });
    }
  }
  if (data['webauthn'] !== undefined) errors.add('webauthn', notAllowed);
  const duo = integerField(data, 'duo', errors);
  if (duo !== undefined && selectionOk) {
    if (!offeredClasses.has('duo')) errors.add('duo', notAllowed);
    else {
      const device = user.duo.find((d) => d.pk === duo);
      // authentik: get_object_or_404 inside validation -> Http404 -> the executor's flow-error challenge.
      if (device === undefined) return { kind: 'error', reason: 'duo device not found' };
      if (!device.autoApprove) errors.add('duo', { string: 'Duo denied access', code: 'denied' });
      else {
        device.lastUsed = Instant.fromEpochMs(ctx.nowMs);
        usedDevice = { deviceClass: 'duo', pk: device.pk };
      }
    }
  }
  checkComponent(data, errors);
  if (!errors.empty) return invalidResponse(challenge, errors.errors);
  if (data['code'] === undefined && data['webauthn'] === undefined && data['duo'] === undefined) {
    return invalidResponse(challenge, { non_field_errors: [{ string: 'Empty response', code: 'invalid' }] });
  }
  if (usedDevice !== undefined) (ctx.plan.context.mfaDevices ??= []).push(usedDevice);
  ctx.plan.context.authMethod ??= 'auth_mfa';
  return { kind: 'ok' };
}

// ---------------------------------------------------------------------------------------------------------------
// user_login / user_logout

type LoginStage = Extract<CoreStage, { kind: 'user_login' }>;

function userLogin(stage: LoginStage, ctx: StageContext, method: Method, body: unknown): StageOutcome {
  const rememberOffset = parseTimedelta(stage.remember_me_offset);
  let remember = false;
  if (rememberOffset > 0) {
    // With a remember-me offset the stage asks first (ak-stage-user-login) and takes {remember_me: bool}.
    const challenge = ctx.factory.userLogin(ctx.flow, ctx.display());
    if (method === 'GET') return { kind: 'challenge', body: challenge };
    const parsed = bodyAsObject(body);
    if ('errors' in parsed) return invalidResponse(challenge, parsed.errors);
    const errors = new FieldErrors();
    const value = booleanField(parsed.data, 'remember_me', errors);
    checkComponent(parsed.data, errors);
    if (!errors.empty || value === undefined) return invalidResponse(challenge, errors.errors);
    remember = value;
  }
  const user = ctx.pendingUser();
  if (ctx.plan.context.pendingUserPk === undefined || user === undefined) return { kind: 'invalid', message: 'No Pending user to login.' };
  // authentik logs an inactive user in (with a warning); the session then does not authenticate (sessionUser).
  const duration = parseTimedelta(stage.session_duration) + (remember ? rememberOffset : 0);
  ctx.sessions.login(ctx.session(), { pk: user.pk, uid: user.uid }, duration, ctx.remoteIp);
  return { kind: 'ok' };
}

/** Django logout(): the session is flushed (ended, new key); the running plan continues on the new session. */
function userLogout(ctx: StageContext): StageOutcome {
  const old = ctx.session();
  if (old.userPk !== null) ctx.sessions.terminate(old, 'logout');
  else ctx.sessions.discard(old);
  old.plan = undefined;
  const fresh = ctx.sessions.create();
  fresh.plan = ctx.plan;
  fresh.lastIp = ctx.remoteIp;
  ctx.replaceSession(fresh);
  return { kind: 'ok' };
}
