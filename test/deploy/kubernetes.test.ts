/**
 * deploy/kubernetes/: every document parses, every object is valid against the Kubernetes OpenAPI schemas
 * (kubernetes-models' compiled validators: types, required fields, enums, formats), and the manifests agree with
 * the code and the Dockerfile: ports, probe path, environment, user, TMPDIR, stop timeout, EAP affinity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort';
import { loadConfig } from '../../src/config/env.js';
import { CONTROL_LIMITS, RADIUS_LIMITS } from '../../src/config/limits.js';
import { PING_PATH } from '../../src/observability/server.js';
import { parseDockerfile } from '../helpers/dockerfile.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const manifestDir = join(repo, 'deploy', 'kubernetes');

interface Loaded {
  file: string;
  object: Secret | Service | Deployment | PodDisruptionBudget;
}

function load(): Loaded[] {
  const out: Loaded[] = [];
  for (const file of readdirSync(manifestDir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(manifestDir, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], file);
      const data: unknown = doc.toJS();
      // The guards check apiVersion and kind only; validate() checks the rest against the schema.
      const object = Deployment.is(data)
        ? new Deployment(data)
        : Service.is(data)
          ? new Service(data)
          : Secret.is(data)
            ? new Secret(data)
            : PodDisruptionBudget.is(data)
              ? new PodDisruptionBudget(data)
              : undefined;
      assert.ok(object !== undefined, `${file}: not a kind this test validates`);
      out.push({ file, object });
    }
  }
  return out;
}

const objects = load();
const one = <T extends Loaded['object']>(guard: (o: Loaded['object']) => o is T): T[] => objects.map((l) => l.object).filter(guard);
const deployment = one((o): o is Deployment => o instanceof Deployment)[0]!;
const services = one((o): o is Service => o instanceof Service);
const secret = one((o): o is Secret => o instanceof Secret)[0]!;
const pdb = one((o): o is PodDisruptionBudget => o instanceof PodDisruptionBudget)[0]!;
const pod = deployment.spec!.template.spec!;
const container = pod.containers[0]!;
const podLabels = deployment.spec!.template.metadata!.labels!;

test('every object is schema-valid', () => {
  assert.ok(deployment && secret && pdb && services.length >= 2, 'a Deployment, a Secret, a PodDisruptionBudget and the Services');
  for (const { file, object } of objects) assert.doesNotThrow(() => object.validate(), `${file}: ${object.kind} ${object.metadata?.name}`);
});

test('the validator rejects what the API server would', () => {
  const broken: unknown = JSON.parse(JSON.stringify(deployment).replace('"containerPort":3389', '"containerPort":"3389"'));
  assert.ok(Deployment.is(broken));
  assert.throws(() => new Deployment(broken).validate(), /containerPort must be integer/);
  const badType: unknown = JSON.parse(JSON.stringify(services[0]).replace('"type":"ClusterIP"', '"type":"Cluster"'));
  assert.ok(Service.is(badType));
  assert.throws(() => new Service(badType).validate(), /must be equal to one of the allowed values/);
});

test('container ports are the code defaults; Services reach them by name with the same protocol', () => {
  const defaults = loadConfig({}).listen;
  const byName = new Map((container.ports ?? []).map((p: IContainerPort) => [p.name, p]));
  const expected: [string, number, string][] = [
    ['ldap', defaults.ldap[0]!.port, 'TCP'],
    ['ldaps', defaults.ldaps[0]!.port, 'TCP'],
    ['radius', defaults.radius[0]!.port, 'UDP'],
    ['radius-acct', defaults.radiusAccounting[0]!.port, 'UDP'],
    ['http-metrics', defaults.metrics[0]!.port, 'TCP'],
  ];
  assert.deepEqual(
    [...byName.values()].map((p) => [p.name, p.containerPort, p.protocol]),
    expected,
  );
  // The image exposes the same ports.
  const image = parseDockerfile(join(repo, 'Dockerfile')).at(-1)!;
  assert.deepEqual(new Set(image.expose), new Set(expected.map(([, port, proto]) => (proto === 'UDP' ? `${port}/udp` : String(port)))));
  for (const service of services) {
    assert.deepEqual(service.spec!.selector, podLabels, `${service.metadata!.name} selects the pods`);
    for (const port of service.spec!.ports!) {
      const target = byName.get(String(port.targetPort));
      assert.ok(target !== undefined, `${service.metadata!.name}: targetPort ${port.targetPort} names no container port`);
      assert.equal(port.protocol, target.protocol, `${service.metadata!.name}: ${port.name}`);
    }
  }
  const ldap = services.find((s) => s.spec!.ports!.some((p) => p.targetPort === 'ldap'))!;
  assert.deepEqual(ldap.spec!.ports!.map((p) => [p.port, p.protocol]), [[389, 'TCP'], [636, 'TCP']]);
});

test('RADIUS Service: UDP, client affinity outlasting an idle EAP conversation', () => {
  const radius = services.find((s) => s.spec!.ports!.some((p) => p.targetPort === 'radius'))!;
  assert.ok(radius.spec!.ports!.every((p) => p.protocol === 'UDP'));
  assert.equal(radius.spec!.sessionAffinity, 'ClientIP');
  assert.ok(radius.spec!.sessionAffinityConfig!.clientIP!.timeoutSeconds! * 1000 >= RADIUS_LIMITS.eapIdleMs);
});

test('probes hit the ping path on the metrics port; the graceful stop fits the grace period', () => {
  for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
    assert.equal(probe?.httpGet?.path, PING_PATH);
    assert.equal(probe.httpGet.port, 'http-metrics');
  }
  assert.ok(pod.terminationGracePeriodSeconds! * 1000 > 2 * CONTROL_LIMITS.stopTimeoutMs);
});

test('the environment from the Secret is a valid outpost configuration with one process per pod', () => {
  const stringData = secret.stringData ?? {};
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref !== undefined) {
      assert.equal(ref.name, secret.metadata!.name);
      assert.ok(ref.key in stringData, `the Secret has no key ${ref.key}`);
      env[variable.name] = stringData[ref.key]!;
    } else env[variable.name] = variable.value ?? '';
  }
  assert.ok(container.env!.find((v) => v.name === 'AUTHENTIK_TOKEN')?.valueFrom?.secretKeyRef !== undefined, 'the token comes from the Secret');
  const config = loadConfig(env);
  assert.ok(config.core !== undefined, 'AUTHENTIK_HOST is set');
  assert.equal(config.workers, 1);
});

test('replicas, disruption budget, resources and a locked-down security context', () => {
  const replicas = deployment.spec!.replicas!;
  assert.ok(replicas >= 2);
  assert.deepEqual(pdb.spec!.selector!.matchLabels, podLabels);
  assert.ok(typeof pdb.spec!.maxUnavailable === 'number' && pdb.spec!.maxUnavailable < replicas);
  for (const kind of ['requests', 'limits'] as const) {
    assert.ok(container.resources?.[kind]?.['memory'] !== undefined && container.resources[kind]['cpu'] !== undefined, kind);
  }
  const image = parseDockerfile(join(repo, 'Dockerfile')).at(-1)!;
  assert.equal(image.user, 'node');
  assert.equal(pod.securityContext?.runAsUser, 1000, "the image's node user");
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL']);
  // With a read-only root, TMPDIR (the metrics socket) must be a writable mount.
  const tmpdir = image.env.get('TMPDIR')!.replace(/\/$/, '');
  const mount = container.volumeMounts?.find((m) => m.mountPath === tmpdir);
  assert.ok(mount !== undefined, `${tmpdir} is mounted`);
  assert.ok(pod.volumes?.find((v) => v.name === mount.name)?.emptyDir !== undefined);
});
