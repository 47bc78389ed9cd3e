/** The PAP and accounting handler against a fake core: every outcome and its reason, no sockets. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MFA_CODE_PROMPT, RadiusRequestHandler, type RadiusProvider } from '../../../src/providers/radius/handler.js';
import { radiusMetrics } from '../../../src/providers/radius/metrics.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import {
  Attr,
  Code,
  decodePacket,
  encodeRequest,
  getAttribute,
  hideUserPassword,
  integerAttribute,
  stateAttribute,
  textAttribute,
  type RadiusAttribute,
} from '../../../src/protocol/radius/index.js';
import { FakeCore, fakeRadiusProvider, fakeUser } from '../../helpers/fake-core.js';
import { LogCapture } from '../../helpers/log-capture.js';
import { metricSum } from '../../helpers/metrics-text.js';

const SECRET = 'radius-shared-secret';

function setup(providerOverrides: Partial<RadiusProvider['config']> = {}, level: 'debug' | 'info' = 'debug') {
  const core = new FakeCore();
  core.users = [fakeUser({ pk: 1, username: 'alice' }), fakeUser({ pk: 2, username: 'carol' })];
  core.passwords.set('alice', 'alice-pw').set('carol', 'carol-pw');
  core.mfaCodes.set('carol', '123456');
  const registry = new MetricsRegistry();
  const logs = new LogCapture(level);
  const handler = new RadiusRequestHandler({
    api: core,
    outpostName: () => 'radius-outpost',
    timeoutMs: 5_000,
    logger: logs.root.child('authentik.outpost.radius'),
    metrics: radiusMetrics(registry),
  });
  const provider: RadiusProvider = { config: fakeRadiusProvider(providerOverrides), secret: SECRET, eapContext: undefined };
  const send = async (attributes: RadiusAttribute[], code: number = Code.AccessRequest) => {
    const datagram = encodeRequest({ code, identifier: 9, attributes }, SECRET);
    const answer = await handler.handle({ service: 'authentication', source: { address: '10.1.2.3', port: 5000 }, client: provider, packet: decodePacket(datagram) });
    return answer === undefined ? undefined : decodePacket(answer);
  };
  const pap = (username: string, password: string, extra: RadiusAttribute[] = []) => {
    const authenticator = randomBytes(16);
    const datagram = encodeRequest(
      {
        code: Code.AccessRequest,
        identifier: 9,
        authenticator,
        attributes: [textAttribute(Attr.UserName, username), { type: Attr.UserPassword, value: hideUserPassword(password, SECRET, authenticator) }, ...extra],
      },
      SECRET,
    );
    return Promise.resolve(handler.handle({ service: 'authentication', source: { address: '10.1.2.3', port: 5000 }, client: provider, packet: decodePacket(datagram) })).then(
      (a) => decodePacket(a!),
    );
  };
  const rejected = async (reason: string) =>
    metricSum(await registry.exposition(), 'authentik_outpost_radius_requests_rejected_total', { reason, app: 'radius-app' });
  const accounting = async (status: string) =>
    metricSum(await registry.exposition(), 'ak_outpost_radius_accounting_requests_total', { status, app: 'radius-app' });
  return { core, logs, send, pap, rejected, accounting };
}

test('PAP: the flow runs with the NAS address, the RADIUS inner query and the MFA suffix rule', async () => {
  const { core, pap } = setup();
  assert.equal((await pap('alice', 'alice-pw')).code, Code.AccessAccept);
  assert.equal((await pap('carol', 'carol-pw;123456')).code, Code.AccessAccept);
  assert.equal((await pap('carol', 'carol-pw;654321')).code, Code.AccessReject);
  assert.deepEqual(core.flowRuns[0]!.innerQuery, { 'goauthentik.io/outpost/radius': 'true' });
  assert.equal(core.flowRuns[0]!.remoteIp, '10.1.2.3');
});

test('every failure is an Access-Reject with its reason', async () => {
  const { core, pap, send, rejected } = setup();
  assert.equal((await pap('alice', 'wrong')).code, Code.AccessReject);
  assert.equal(await rejected('flow_error'), 1);

  core.failNext('checkRadiusAccess');
  assert.equal((await pap('alice', 'alice-pw')).code, Code.AccessReject);
  assert.equal(await rejected('access_check_fail'), 1);

  core.radiusAccess = () => ({ passing: false, attributes: null });
  assert.equal((await pap('alice', 'alice-pw')).code, Code.AccessReject);
  assert.equal(await rejected('access_denied'), 1);

  core.radiusAccess = () => ({ passing: true, attributes: '!!not base64' });
  assert.equal((await pap('alice', 'alice-pw')).code, Code.AccessReject);
  assert.equal(await rejected('attribute_decode_failed'), 1);

  core.radiusAccess = () => ({ passing: true, attributes: Buffer.from('short').toString('base64') });
  assert.equal((await pap('alice', 'alice-pw')).code, Code.AccessReject);
  assert.equal(await rejected('attribute_parse_failed'), 1);

  const runs = core.flowRuns.length;
  assert.equal((await send([textAttribute(Attr.UserName, 'alice'), { type: Attr.ChapPassword, value: Buffer.alloc(17) }]))?.code, Code.AccessReject);
  assert.equal(await rejected('unsupported_authentication'), 1);
  assert.equal((await send([textAttribute(Attr.UserName, 'alice'), { type: Attr.UserPassword, value: Buffer.alloc(15) }]))?.code, Code.AccessReject);
  assert.equal(await rejected('invalid_request'), 1);
  assert.equal(core.flowRuns.length, runs, 'no flow for requests without usable PAP credentials');
});

test('the Accept carries the core\'s reply attributes in order', async () => {
  const { core, pap } = setup();
  const reply = encodeRequest({ code: Code.AccessRequest, identifier: 1, attributes: [integerAttribute(Attr.SessionTimeout, 60), textAttribute(Attr.ReplyMessage, 'hi')] }, 'x', false);
  core.radiusAccess = () => ({ passing: true, attributes: reply.toString('base64') });
  const answer = await pap('alice', 'alice-pw');
  assert.equal(answer.code, Code.AccessAccept);
  assert.deepEqual(answer.attributes.map((a) => a.type), [Attr.MessageAuthenticator, Attr.SessionTimeout, Attr.ReplyMessage]);
});

test('Accounting-Request: Accounting-Response, logged without secrets', async () => {
  const { send, logs } = setup();
  const answer = await send([textAttribute(Attr.UserName, 'alice'), integerAttribute(Attr.AcctStatusType, 1), textAttribute(Attr.AcctSessionId, 'abc')], Code.AccountingRequest);
  assert.equal(answer?.code, Code.AccountingResponse);
  assert.equal(getAttribute(answer, Attr.MessageAuthenticator), undefined);
  assert.match(logs.text, /"event":"Radius Accounting"/);
  assert.deepEqual(logs.leaked([SECRET, 'alice-pw']), []);
});

test('Accounting at the default level: Start and Stop logged at info, Interim-Update not; all answered and counted by status', async () => {
  const { send, logs, accounting } = setup({}, 'info');
  const record = (status: number) => [textAttribute(Attr.UserName, 'alice'), integerAttribute(Attr.AcctStatusType, status), textAttribute(Attr.AcctSessionId, 's-7')];
  for (const status of [1, 3, 3, 2]) assert.equal((await send(record(status), Code.AccountingRequest))?.code, Code.AccountingResponse);
  assert.equal((await send([textAttribute(Attr.UserName, 'alice')], Code.AccountingRequest))?.code, Code.AccountingResponse);
  const logged = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === 'Radius Accounting');
  assert.deepEqual(
    logged.map((l) => [l['level'], l['status'], l['username'], l['session']]),
    [
      ['info', 1, 'alice', 's-7'],
      ['info', 2, 'alice', 's-7'],
      ['info', undefined, 'alice', undefined],
    ],
  );
  assert.deepEqual(
    await Promise.all(['start', 'interim_update', 'stop', 'absent'].map(accounting)),
    [1, 2, 1, 1],
  );
});

test('Accounting at debug: Interim-Update logged too', async () => {
  const { send, logs } = setup({}, 'debug');
  await send([integerAttribute(Attr.AcctStatusType, 3), textAttribute(Attr.AcctSessionId, 's-8')], Code.AccountingRequest);
  const line = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['event'] === 'Radius Accounting');
  assert.equal(line?.['level'], 'debug');
  assert.equal(line?.['session'], 's-8');
});

test('EAP on a provider without a certificate: Access-Reject with EAP-Failure and one log line', async () => {
  const { send, logs, rejected } = setup();
  const identity = Buffer.from([2, 5, 0, 10, 1, ...Buffer.from('alice')]);
  const answer = await send([textAttribute(Attr.UserName, 'alice'), { type: Attr.EapMessage, value: identity }]);
  assert.equal(answer?.code, Code.AccessReject);
  assert.deepEqual(getAttribute(answer, Attr.EapMessage), Buffer.from([4, 5, 0, 4]));
  assert.equal(await rejected('eap_no_certificate'), 1);
  assert.equal(logs.lines.length, 1);
  assert.match(logs.lines[0]!, /"event":"Radius Request"/);
  assert.match(logs.lines[0]!, /"reason":"eap_no_certificate"/);
});

describe('MFA by Access-Challenge', () => {
  const challenge = async (pap: ReturnType<typeof setup>['pap'], username = 'carol') => {
    const answer = await pap(username, 'carol-pw');
    assert.equal(answer.code, Code.AccessChallenge);
    const state = getAttribute(answer, Attr.State);
    assert.ok(state !== undefined && state.length > 0, 'a State');
    return state;
  };

  test('no code in the password: Access-Challenge with the prompt and a State; the code with that State continues the run', async () => {
    const { core, pap, logs } = setup();
    const answer = await pap('carol', 'carol-pw');
    assert.equal(answer.code, Code.AccessChallenge);
    assert.deepEqual(answer.attributes.map((a) => a.type), [Attr.MessageAuthenticator, Attr.ReplyMessage, Attr.State]);
    assert.equal(getAttribute(answer, Attr.ReplyMessage)?.toString(), MFA_CODE_PROMPT);
    const state = getAttribute(answer, Attr.State)!;
    assert.equal(core.calls.checkRadiusAccess, 0, 'no access check before the code');

    const accepted = await pap('carol', '123456', [stateAttribute(state)]);
    assert.equal(accepted.code, Code.AccessAccept);
    assert.equal(core.calls.execute, 1, 'one flow run, resumed');
    assert.equal(core.calls.resume, 1);
    assert.equal(core.calls.checkRadiusAccess, 1);
    assert.deepEqual(core.flowRuns.map((r) => r.outcome), [
      { passed: false, reason: 'code_required', detail: 'waiting for a code' },
      { passed: true },
    ]);

    const results = logs.lines.filter((l) => l.includes('"event":"Radius Request"')).map((l) => (JSON.parse(l) as { result: string }).result);
    assert.deepEqual(results, ['challenge', 'accept']);
    assert.deepEqual(logs.leaked([SECRET, 'carol-pw', '123456', state.toString('latin1'), state.toString('hex')]), []);
  });

  test('a State is usable once; an unknown State is refused without asking the core', async () => {
    const { core, pap, rejected } = setup();
    const state = await challenge(pap);
    assert.equal((await pap('carol', '123456', [stateAttribute(state)])).code, Code.AccessAccept);
    assert.equal((await pap('carol', '123456', [stateAttribute(state)])).code, Code.AccessReject);
    assert.equal((await pap('carol', '123456', [stateAttribute(Buffer.from('never-issued'))])).code, Code.AccessReject);
    assert.equal(await rejected('mfa_unknown_state'), 2);
    assert.equal(core.calls.resume, 1);
  });

  test('a wrong code, another User-Name, a core error while resuming: Access-Reject, and the State is gone', async () => {
    const { core, pap, rejected } = setup();
    let state = await challenge(pap);
    assert.equal((await pap('carol', '654321', [stateAttribute(state)])).code, Code.AccessReject);
    assert.equal(await rejected('flow_error'), 1);
    assert.equal((await pap('carol', '123456', [stateAttribute(state)])).code, Code.AccessReject, 'no second try on one State');
    assert.equal(await rejected('mfa_unknown_state'), 1);

    state = await challenge(pap);
    assert.equal((await pap('alice', '123456', [stateAttribute(state)])).code, Code.AccessReject);
    assert.equal(await rejected('mfa_state_mismatch'), 1);
    assert.equal((await pap('carol', '123456', [stateAttribute(state)])).code, Code.AccessReject);
    assert.equal(await rejected('mfa_unknown_state'), 2);

    state = await challenge(pap);
    core.failNext('resume');
    assert.equal((await pap('carol', '123456', [stateAttribute(state)])).code, Code.AccessReject);
    assert.equal(await rejected('flow_error'), 2);

    state = await challenge(pap);
    core.failNext('checkRadiusAccess');
    assert.equal((await pap('carol', '123456', [stateAttribute(state)])).code, Code.AccessReject);
    assert.equal(await rejected('access_check_fail'), 1);
  });

  test('MFA support off: no challenge, the password answers the prompt as before', async () => {
    const { core, pap } = setup({ mfaSupport: false });
    assert.equal((await pap('carol', 'carol-pw')).code, Code.AccessReject);
    assert.equal(core.calls.resume, 0);
  });
});
