/**
 * Challenge JSON exactly as each generation's schema describes it (ChallengeTypes): 2023.10 challenges carry
 * the required `type` ("native" / "redirect"), 2026.2 ones do not; some fields exist in one generation only.
 */
import type { CoreFlow, CoreUser, Generation } from '../model.js';
import type { OfferedDeviceChallenge } from './plan.js';

/** authentik's DEFAULT_AVATAR; the embedded core does not call out to gravatar. */
export const DEFAULT_AVATAR = '/static/dist/assets/images/user_default.png';
export const DEFAULT_FLOW_BACKGROUND = '/static/dist/assets/images/flow_background.jpg';
export const FLOW_CANCEL_URL = '/flows/-/cancel/';

export interface ErrorDetail {
  string: string;
  code: string;
}
export type ResponseErrors = Record<string, ErrorDetail[]>;
export type ChallengeBody = Record<string, unknown> & { component: string };

/** Who the challenge is shown for: the pending user, the session user, or nobody (""). */
export interface DisplayUser {
  username: string;
  avatar: string;
}

export const ANONYMOUS_DISPLAY: DisplayUser = { username: '', avatar: DEFAULT_AVATAR };

export function displayUser(user: CoreUser | undefined): DisplayUser {
  return user === undefined ? ANONYMOUS_DISPLAY : { username: user.username, avatar: DEFAULT_AVATAR };
}

export class ChallengeFactory {
  readonly #generation: Generation;

  constructor(generation: Generation) {
    this.#generation = generation;
  }

  #flowInfo(flow: CoreFlow): Record<string, unknown> {
    const info: Record<string, unknown> = { title: flow.title, background: DEFAULT_FLOW_BACKGROUND };
    if (this.#generation === '2026.2') info['background_themed_urls'] = null;
    info['cancel_url'] = FLOW_CANCEL_URL;
    info['layout'] = 'stacked';
    return info;
  }

  /** Common head in authentik's serializer order: [type,] flow_info, component. */
  #stage(flow: CoreFlow | undefined, component: string, type = 'native'): ChallengeBody {
    const body: Record<string, unknown> = {};
    if (this.#generation === '2023.10') body['type'] = type;
    if (flow !== undefined) body['flow_info'] = this.#flowInfo(flow);
    body['component'] = component;
    return body as ChallengeBody;
  }

  identification(flow: CoreFlow, opts: { userFields: string[]; passwordFields: boolean }): ChallengeBody {
    const body = this.#stage(flow, 'ak-stage-identification');
    body['user_fields'] = opts.userFields;
    body['password_fields'] = opts.passwordFields;
    if (this.#generation === '2026.2') {
      body['allow_show_password'] = false;
      body['flow_designation'] = flow.designation;
      body['captcha_stage'] = null;
    }
    body['primary_action'] = flow.designation === 'authentication' ? 'Log in' : 'Continue';
    body['sources'] = [];
    body['show_source_labels'] = false;
    if (this.#generation === '2026.2') {
      body['enable_remember_me'] = false;
      body['passkey_challenge'] = null;
    }
    return body;
  }

  password(flow: CoreFlow, user: DisplayUser): ChallengeBody {
    const body = this.#withUser(this.#stage(flow, 'ak-stage-password'), user);
    if (this.#generation === '2026.2') body['allow_show_password'] = false;
    return body;
  }

  authenticatorValidate(flow: CoreFlow, user: DisplayUser, challenges: readonly OfferedDeviceChallenge[]): ChallengeBody {
    const body = this.#withUser(this.#stage(flow, 'ak-stage-authenticator-validate'), user);
    body['device_challenges'] = challenges.map((c) => {
      const out: Record<string, unknown> = { device_class: c.deviceClass, device_uid: c.deviceUid, challenge: {} };
      if (this.#generation === '2026.2') out['last_used'] = c.lastUsed;
      return out;
    });
    body['configuration_stages'] = [];
    return body;
  }

  userLogin(flow: CoreFlow, user: DisplayUser): ChallengeBody {
    return this.#withUser(this.#stage(flow, 'ak-stage-user-login'), user);
  }

  accessDenied(flow: CoreFlow, user: DisplayUser, errorMessage: string | undefined): ChallengeBody {
    const body = this.#withUser(this.#stage(flow, 'ak-stage-access-denied'), user);
    body['error_message'] = errorMessage === undefined || errorMessage === '' ? 'Unknown error' : errorMessage;
    return body;
  }

  redirect(to: string): ChallengeBody {
    const body = this.#stage(undefined, 'xak-flow-redirect', 'redirect');
    body['to'] = to;
    return body;
  }

  flowError(requestId: string): ChallengeBody {
    const body = this.#stage(undefined, 'ak-stage-flow-error');
    body['request_id'] = requestId;
    return body;
  }

  #withUser(body: ChallengeBody, user: DisplayUser): ChallengeBody {
    body['pending_user'] = user.username;
    body['pending_user_avatar'] = user.avatar;
    return body;
  }
}

/** Adds response_errors right after component, where authentik's serializers put it. */
export function withErrors(challenge: ChallengeBody, errors: ResponseErrors): ChallengeBody {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(challenge)) {
    out[key] = value;
    if (key === 'component') out['response_errors'] = errors;
  }
  return out as ChallengeBody;
}

export function fieldError(field: string, message: string, code = 'invalid'): ResponseErrors {
  return { [field]: [{ string: message, code }] };
}
