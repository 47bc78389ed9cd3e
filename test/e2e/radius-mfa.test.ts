/**
 * MFA by Access-Challenge end to end (embedded core -> outpost -> UDP), for both API generations: radclient sends
 * the password, gets an Access-Challenge with a prompt and a State, and answers it with the code and that State;
 * our own client checks retransmissions of the first request against the duplicate cache.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode } from '../../src/embedded-core/directory/totp.js';
import { Attr, Code, checkMessageAuthenticator, decodePacket, getAttribute, stateAttribute } from '../../src/protocol/radius/index.js';
import { MFA_CODE_PROMPT } from '../../src/providers/radius/handler.js';
import { run } from '../helpers/cli.js';
import { RADIUS_OUTPOST_TOKEN, RADIUS_SECRET, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { metricSum } from '../helpers/metrics-text.js';
import { exchange, papRequest } from '../helpers/radius-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

const FLOW = 'default-authentication-flow';
const TOTP_STEP_MS = 30_000;

/** radclient with attribute lines on stdin (and Message-Authenticator); returns its output. */
async function radclient(stack: Stack, attributes: string): Promise<string> {
  const script = `printf '%s\\n' "$1" | radclient -x -r 1 -t 3 127.0.0.1:${stack.radiusPort} auth "$2"`;
  const result = await run('sh', ['-c', script, 'radclient', `${attributes}, Message-Authenticator = 0x00`, RADIUS_SECRET]);
  return result.stdout + result.stderr;
}

/** The State radclient printed for the Access-Challenge, as radclient's 0x… notation. */
function challengeState(output: string): string {
  assert.match(output, /Received Access-Challenge/, output);
  const state = /State = (0x[0-9a-f]+)/i.exec(output)?.[1];
  assert.ok(state !== undefined, `no State in: ${output}`);
  return state;
}

const rejected = async (stack: Stack, reason: string): Promise<number> =>
  metricSum(await stack.registry.exposition(), 'authentik_outpost_radius_requests_rejected_total', { reason, app: 'radius' });

for (const generation of ['2026.2', '2023.10'] as const) {
  describe(`RADIUS MFA by Access-Challenge (${generation})`, () => {
    let stack: Stack;
    const states: string[] = [];
    before(async () => {
      stack = await startStack({ token: RADIUS_OUTPOST_TOKEN, directory: await testDirectory({ generation }) });
    });
    after(async () => {
      await stack?.stop();
    });

    test('radclient: the password alone gets a challenge; the TOTP code with its State gets Access-Accept', async () => {
      const first = await radclient(stack, 'User-Name = "carol", User-Password = "carol-pw"');
      assert.match(first, new RegExp(`Reply-Message = "${MFA_CODE_PROMPT}"`), first);
      const state = challengeState(first);
      states.push(state);
      const code = totpCode(TOTP_SECRET, Date.now());
      const second = await radclient(stack, `User-Name = "carol", User-Password = "${code}", State = ${state}`);
      assert.match(second, /Received Access-Accept/, second);
    });

    test('a State answered once is refused the second time', async () => {
      const state = states[0]!;
      const code = totpCode(TOTP_SECRET, Date.now() + TOTP_STEP_MS);
      const before = await rejected(stack, 'mfa_unknown_state');
      assert.match(await radclient(stack, `User-Name = "carol", User-Password = "${code}", State = ${state}`), /Received Access-Reject/);
      assert.equal(await rejected(stack, 'mfa_unknown_state'), before + 1);
    });

    test('a wrong code is refused, and its State cannot be tried again', async () => {
      const state = challengeState(await radclient(stack, 'User-Name = "carol", User-Password = "carol-pw"'));
      states.push(state);
      const wrong = totpCode(TOTP_SECRET, Date.now() + 20 * TOTP_STEP_MS);
      const before = await rejected(stack, 'flow_error');
      assert.match(await radclient(stack, `User-Name = "carol", User-Password = "${wrong}", State = ${state}`), /Received Access-Reject/);
      assert.equal(await rejected(stack, 'flow_error'), before + 1);
      assert.match(await radclient(stack, `User-Name = "carol", User-Password = "carol-static-1", State = ${state}`), /Received Access-Reject/);
    });

    test('the State answered with another User-Name is refused', async () => {
      const state = challengeState(await radclient(stack, 'User-Name = "carol", User-Password = "carol-pw"'));
      states.push(state);
      const before = await rejected(stack, 'mfa_state_mismatch');
      assert.match(await radclient(stack, `User-Name = "alice", User-Password = "carol-static-1", State = ${state}`), /Received Access-Reject/);
      assert.equal(await rejected(stack, 'mfa_state_mismatch'), before + 1);
    });

    test('password;code still passes in one round', async () => {
      const code = totpCode(TOTP_SECRET, Date.now() + TOTP_STEP_MS);
      const out = await radclient(stack, `User-Name = "carol", User-Password = "carol-pw;${code}"`);
      assert.match(out, /Received Access-Accept/, out);
      assert.doesNotMatch(out, /Access-Challenge/);
    });

    test('retransmissions of the first request get the same challenge from one flow run; a static token answers it', async () => {
      const runs = async (): Promise<number> =>
        metricSum(await stack.registry.exposition(), 'authentik_outpost_flow_timing_get_seconds_count', { flow: FLOW });
      const before = await runs();
      const { datagram, authenticator } = papRequest('carol', 'carol-pw', RADIUS_SECRET, { identifier: 60 });
      const answers = await exchange(datagram, { port: stack.radiusPort, from: '127.0.0.9', times: 2, resendAfterAnswers: true });
      assert.equal(answers.length, 3);
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.equal(await runs(), before + 1);
      const challenge = decodePacket(answers[0]!);
      assert.equal(challenge.code, Code.AccessChallenge);
      assert.equal(challenge.attributes[0]?.type, Attr.MessageAuthenticator);
      assert.equal(checkMessageAuthenticator(answers[0]!, RADIUS_SECRET, authenticator), 'valid');
      const state = getAttribute(challenge, Attr.State)!;
      states.push(`0x${state.toString('hex')}`);

      const answer = papRequest('carol', 'carol-static-1', RADIUS_SECRET, { identifier: 61, extra: [stateAttribute(state)] });
      const [accept] = await exchange(answer.datagram, { port: stack.radiusPort, from: '127.0.0.9' });
      assert.equal(accept?.[0], Code.AccessAccept);
      assert.equal(await runs(), before + 1, 'the code continued the same run');
    });

    test('the log says challenge, and holds no password, code or State', () => {
      assert.match(stack.logs.text, /"event":"Radius Request".*"result":"challenge"|"result":"challenge".*"event":"Radius Request"/);
      const codes = [-1, 0, 1].map((k) => totpCode(TOTP_SECRET, Date.now() + k * TOTP_STEP_MS));
      const stateTexts = states.flatMap((s) => {
        const raw = Buffer.from(s.slice(2), 'hex');
        return [s.slice(2), raw.toString('latin1'), raw.toString('base64')];
      });
      assert.deepEqual(stack.logs.leaked([RADIUS_SECRET, 'carol-pw', 'carol-static-1', ...codes, ...stateTexts]), []);
    });
  });
}
