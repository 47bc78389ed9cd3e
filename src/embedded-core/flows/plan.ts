/** The flow plan the executor keeps in a session (authentik's FlowPlan, reduced to what our stages need). */
import type { CoreStage } from '../model.js';

export type DeviceClass = 'static' | 'totp' | 'duo' | 'webauthn';

/** A device challenge as offered to the client; validation of `selected_challenge` compares against these. */
export interface OfferedDeviceChallenge {
  deviceClass: DeviceClass;
  deviceUid: string;
  lastUsed: string | null;
}

export interface PlanContext {
  /** Set by identification (authentik's PLAN_CONTEXT_PENDING_USER). */
  pendingUserPk?: number;
  /** authentik's `outpost = {"instance": <Outpost>}` for requests made by a recognised outpost. */
  outpost?: { instance: { uuid: string; name: string; type: string } };
  /** Client IP (X-authentik-remote-ip when sent by an outpost). */
  remoteIp: string;
  /** Wrong passwords in this plan; the password stage cancels at failed_attempts_before_cancel. */
  passwordFailures: number;
  /** Challenges offered by the current authenticator_validate stage. */
  deviceChallenges?: OfferedDeviceChallenge[];
  /** authentik's auth_method / auth_method_args (for the login event). */
  authMethod?: string;
  mfaDevices?: Array<{ deviceClass: DeviceClass; pk: number }>;
}

export interface FlowPlan {
  flowPk: string;
  flowSlug: string;
  /** Stages still to run; [0] is the current one. A snapshot: a directory reload does not change a running plan. */
  stages: CoreStage[];
  context: PlanContext;
}
