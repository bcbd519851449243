// deploy/ against what the apps serve and read, with no cluster: the kustomize base has a
// Deployment, Service and HorizontalPodAutoscaler per app, runs the image's entry points,
// probes the admin paths on the admin port, sets every variable an app needs and nothing it
// does not read, mounts config and secrets where the loader looks; the ServiceMonitor is
// the spec's, and every dashboard query names a metric and labels the registry defines.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments, parse } from 'yaml';
import { TOKEN_TYPES } from '@aigw/observability';
import {
  APP_ENV_VARS,
  APP_NAMES,
  APP_OPTIONAL_ENV_VARS,
  appReadsEnv,
  SECRET_ENV_APPS,
  SECRET_ENV_PREFIX,
  type AppName,
} from './app-env';
import {
  exportedMetricTypes,
  exportedMetrics,
  labelNames,
  metricNames,
  TARGET_LABELS,
  typeProblems,
} from './promql-metrics';

const root = join(__dirname, '..', '..', '..');
const base = join(root, 'deploy', 'k8s', 'base');
const read = (...path: string[]): string => readFileSync(join(root, ...path), 'utf8');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface Volume {
  name: string;
  configMap?: { name: string };
  projected?: {
    sources: { secret?: { name: string; items?: { key: string; path: string }[] } }[];
  };
  secret?: { secretName: string };
  emptyDir?: { sizeLimit?: string; medium?: string };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  data?: Record<string, string>;
}
interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      containers: Container[];
      volumes?: Volume[];
      securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
      terminationGracePeriodSeconds?: number;
      topologySpreadConstraints?: {
        maxSkew: number;
        topologyKey: string;
        whenUnsatisfiable: string;
        labelSelector: { matchLabels: Record<string, string> };
      }[];
    };
  };
}
interface ServiceSpec {
  selector: Record<string, string>;
  ports: { name: string; port: number; targetPort: string | number }[];
}
interface HpaSpec {
  scaleTargetRef: { apiVersion: string; kind: string; name: string };
  minReplicas: number;
  maxReplicas: number;
}
interface Kustomization {
  resources: string[];
  images: { name: string; newName?: string; newTag?: string }[];
  configMapGenerator: { name: string; files: string[] }[];
  secretGenerator: { name: string; envs: string[] }[];
  replacements?: Replacement[];
}
interface Replacement {
  source: { kind: string; name: string; fieldPath: string };
  targets: { select: { kind: string; name?: string }; fieldPaths: string[] }[];
}

const kustomization = parse(read('deploy/k8s/base/kustomization.yaml')) as Kustomization;
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(base, file), 'utf8')).map((doc) => {
    assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`);
    return doc.toJS() as Manifest;
  }),
);
const find = (kind: string, name: string): Manifest | undefined =>
  manifests.find((m) => m.kind === kind && m.metadata.name === name);

function deploymentOf(app: AppName): { spec: DeploymentSpec; container: Container } {
  const deployment = find('Deployment', app);
  assert.ok(deployment, `${app}: a Deployment`);
  const spec = deployment.spec as unknown as DeploymentSpec;
  assert.equal(spec.template.spec.containers.length, 1, `${app}: one container`);
  return { spec, container: spec.template.spec.containers[0] };
}

function envOf(container: Container): Map<string, EnvVar> {
  const env = new Map<string, EnvVar>();
  for (const entry of container.env ?? []) {
    assert.ok(!env.has(entry.name), `${container.name}: ${entry.name} set twice`);
    env.set(entry.name, entry);
  }
  return env;
}

/** The literal value of a variable, from `value` or from a generated Secret's env file. */
function envValue(entry: EnvVar | undefined): string | undefined {
  if (entry?.value !== undefined) return entry.value;
  const ref = entry?.valueFrom?.secretKeyRef;
  if (!ref) return undefined;
  const generator = kustomization.secretGenerator.find((g) => g.name === ref.name);
  // An optional Secret the operator may create (an access token): unset until they do.
  if (!generator && ref.optional === true) return undefined;
  assert.ok(generator, `secret ${ref.name} is generated by the kustomization`);
  for (const file of generator.envs) {
    for (const line of readFileSync(join(base, file), 'utf8').split('\n')) {
      const [key, ...rest] = line.split('=');
      if (key === ref.key) return rest.join('=');
    }
  }
  assert.fail(`secret ${ref.name} has no key ${ref.key}`);
}

/** Whether the app listens for clients on PORT (some serve only the admin port). */
function servesClients(app: AppName): boolean {
  const dir = join(root, 'apps', app, 'src');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .some((f) => /\.serve\(\s*[A-Za-z_]/.test(readFileSync(join(dir, f), 'utf8')));
}

// The paths the admin listener answers, read from its source.
const adminSource = read('libs/runtime/src/admin-server.ts');
const adminPaths = [...adminSource.matchAll(/case '(\/[a-z/]+)':/g)].map((m) => m[1]);

test('the kustomize base lists files that exist and one image', () => {
  for (const file of kustomization.resources) assert.ok(existsSync(join(base, file)), file);
  assert.deepEqual(
    kustomization.images.map((i) => i.name),
    ['ai-gateway'],
  );
  assert.deepEqual(adminPaths.sort(), ['/healthz', '/metrics', '/readyz', '/stats/prometheus']);
});

for (const app of APP_NAMES) {
  test(`${app}: Deployment, Service and HPA that fit together`, () => {
    const { spec, container } = deploymentOf(app);
    const podLabels = spec.template.metadata.labels;
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) {
      assert.equal(podLabels[key], value, `${app}: the selector matches its pods (${key})`);
    }
    assert.equal(podLabels.app, 'ai-gateway', `${app}: pods carry app: ai-gateway`);

    const service = find('Service', app);
    assert.ok(service, `${app}: a Service`);
    assert.equal(service.metadata.labels?.app, 'ai-gateway', 'the ServiceMonitor selects it');
    const serviceSpec = service.spec as unknown as ServiceSpec;
    for (const [key, value] of Object.entries(serviceSpec.selector)) {
      assert.equal(podLabels[key], value, `${app}: the Service selects its pods (${key})`);
    }
    // Another app's pods must not match (every app's pods carry app: ai-gateway).
    assert.ok(Object.keys(serviceSpec.selector).length > 1, `${app}: selector narrower than app`);

    const hpa = find('HorizontalPodAutoscaler', app);
    assert.ok(hpa, `${app}: a HorizontalPodAutoscaler`);
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    const hpaSpec = hpa.spec as unknown as HpaSpec;
    assert.deepEqual(hpaSpec.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: app,
    });
    assert.ok(hpaSpec.minReplicas >= 1 && hpaSpec.maxReplicas >= hpaSpec.minReplicas);
    // The HPA owns the count: a Deployment's own replicas would reset it on every apply.
    assert.equal(spec.replicas, undefined, `${app}: no replicas beside its HPA`);
    // An HPA on CPU needs requests to compute utilisation; limits keep a pod in its lane.
    for (const resource of ['cpu', 'memory']) {
      assert.ok(container.resources?.requests?.[resource], `${app}: ${resource} request`);
      assert.ok(container.resources?.limits?.[resource], `${app}: ${resource} limit`);
    }
  });

  test(`${app}: image, command, ports and probes match what the app serves`, () => {
    const { spec, container } = deploymentOf(app);
    const env = envOf(container);
    assert.equal(container.image?.split(':')[0], 'ai-gateway', `${app}: the shared image`);
    assert.deepEqual(container.command, ['node', `dist/apps/${app}/src/main.js`]);
    assert.ok(existsSync(join(root, 'apps', app, 'src', 'main.ts')), `apps/${app}/src/main.ts`);

    const adminPort = Number(envValue(env.get('ADMIN_PORT')));
    const port = Number(envValue(env.get('PORT')));
    assert.ok(adminPort > 0 && port > 0 && adminPort !== port, `${app}: PORT and ADMIN_PORT`);
    const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    assert.equal(ports.get('metrics'), adminPort, `${app}: the admin port is named metrics`);
    if (servesClients(app)) {
      assert.equal(ports.get('http'), port, `${app}: the client port is named http`);
    } else {
      assert.ok(!ports.has('http'), `${app} serves no clients on PORT: no http port`);
    }

    const service = find('Service', app)!.spec as unknown as ServiceSpec;
    const servicePorts = new Map(service.ports.map((p) => [p.name, p]));
    assert.equal(servicePorts.get('metrics')?.targetPort, 'metrics');
    assert.equal(servicePorts.has('http'), ports.has('http'), `${app}: Service ports`);
    if (ports.has('http')) assert.equal(servicePorts.get('http')?.targetPort, 'http');

    const probes: [string, Probe | undefined, string][] = [
      ['liveness', container.livenessProbe, '/healthz'],
      ['readiness', container.readinessProbe, '/readyz'],
      ['startup', container.startupProbe, '/healthz'],
    ];
    for (const [kind, probe, path] of probes) {
      assert.equal(probe?.httpGet?.path, path, `${app}: ${kind} probe path`);
      assert.equal(probe?.httpGet?.port, 'metrics', `${app}: ${kind} probe on the admin port`);
      assert.ok(adminPaths.includes(path), `the admin server answers ${path}`);
    }

    const pod = spec.template.spec;
    assert.equal(pod.securityContext?.runAsNonRoot, true, `${app}: runs as non-root`);
    assert.equal(pod.securityContext?.runAsUser, 1000, `${app}: the image's node user`);
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
  });

  test(`${app}: every variable it needs, none it does not read`, () => {
    const { container } = deploymentOf(app);
    const env = envOf(container);
    for (const name of APP_ENV_VARS[app]) {
      assert.ok(envValue(env.get(name)), `${app}: ${name} is set`);
    }
    for (const name of env.keys()) {
      assert.ok(appReadsEnv(app, name), `${app}: sets ${name}, which it does not read`);
    }
    // The next hop is the target's Service, on the port that forwards to its PORT.
    for (const [name, target] of [
      ['ROUTER_URL', 'router'],
      ['PROVIDER_ADAPTER_URL', 'provider-adapter'],
    ] as const) {
      if (!env.has(name)) continue;
      const service = find('Service', target)!.spec as unknown as ServiceSpec;
      const http = service.ports.find((p) => p.name === 'http');
      assert.equal(envValue(env.get(name)), `http://${target}:${http?.port}`, `${app}: ${name}`);
      const targetPort = envValue(envOf(deploymentOf(target).container).get('PORT'));
      const container = deploymentOf(target).container;
      const named = container.ports?.find((p) => p.name === http?.targetPort);
      assert.equal(String(named?.containerPort), targetPort, `${target}: Service reaches PORT`);
    }
    assert.match(envValue(env.get('KAFKA_BROKERS')) ?? '', /^[\w.-]+:\d+(,[\w.-]+:\d+)*$/);
    assert.match(envValue(env.get('REDIS_URL')) ?? '', /^rediss?:\/\//);
    assert.match(envValue(env.get('CLICKHOUSE_URL')) ?? '', /^https?:\/\//);
  });

  test(`${app}: config and secrets mounted where the loader reads them`, () => {
    const { spec, container } = deploymentOf(app);
    const env = envOf(container);
    const volumes = new Map((spec.template.spec.volumes ?? []).map((v) => [v.name, v]));
    const mountOf = (path: string) =>
      (container.volumeMounts ?? []).find(
        (m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`),
      );

    // AI_GATEWAY_CONFIG names a file of the generated ConfigMap, mounted read-only.
    const configPath = envValue(env.get('AI_GATEWAY_CONFIG'))!;
    const configMount = mountOf(configPath);
    assert.ok(configMount?.readOnly, `${app}: ${configPath} is on a read-only mount`);
    const configVolume = volumes.get(configMount.name);
    const generator = kustomization.configMapGenerator.find(
      (g) => g.name === configVolume?.configMap?.name,
    );
    assert.ok(generator, `${app}: the config comes from a generated ConfigMap`);
    const key = configPath.slice(configMount.mountPath.length + 1);
    const file = generator.files.find((f) => f.split('=')[0] === key);
    assert.ok(file, `${app}: the ConfigMap has the key ${key}`);
    assert.ok(existsSync(join(base, file.split('=').at(-1)!)));

    // The data directory is writable although the root filesystem is not.
    const dataMount = mountOf(envValue(env.get('AI_GATEWAY_DATA_DIR'))!);
    assert.ok(dataMount && !dataMount.readOnly, `${app}: a writable data directory`);
    assert.ok(volumes.get(dataMount.name)?.emptyDir, `${app}: data on an emptyDir`);

    // Secrets: every apiKeyRef of the config at <dir>/<name>/<key>, only where needed.
    const config = readFileSync(join(base, file.split('=').at(-1)!), 'utf8');
    const refs = [...config.matchAll(/apiKeyRef:\s*\{\s*name:\s*([\w.-]+)(?:,\s*key:\s*(\w+))?/g)];
    assert.ok(refs.length > 0, 'the config references secrets');
    const secretsDir = envValue(env.get('AI_GATEWAY_SECRETS_DIR'));
    if (!SECRET_ENV_APPS.includes(app)) {
      assert.equal(secretsDir, undefined, `${app} resolves no provider keys: no secrets`);
      assertHoldsNoProviderKey(app, spec.template.spec.volumes ?? [], container, refs);
      return;
    }
    assert.ok(secretsDir, `${app}: AI_GATEWAY_SECRETS_DIR`);
    const secretsMount = (container.volumeMounts ?? []).find((m) => m.mountPath === secretsDir);
    assert.ok(secretsMount?.readOnly, `${app}: secrets mounted read-only at ${secretsDir}`);
    const sources = volumes.get(secretsMount.name)?.projected?.sources ?? [];
    const paths = new Map(
      sources.flatMap((s) =>
        (s.secret?.items ?? []).map((i) => [i.path, `${s.secret!.name}/${i.key}`] as const),
      ),
    );
    for (const [, name, secretKey = 'apiKey'] of refs) {
      // The Kubernetes Secret is named like the apiKeyRef, as in the spec.
      assert.equal(paths.get(`${name}/${secretKey}`), `${name}/${secretKey}`, `${app}: ${name}`);
    }
  });
}

/**
 * Least privilege: an app that calls no provider gets no provider key, neither mounted
 * (a projected or secret volume naming one of the config's Secrets) nor in its environment.
 */
function assertHoldsNoProviderKey(
  app: AppName,
  volumes: readonly Volume[],
  container: Container,
  refs: readonly RegExpMatchArray[],
): void {
  const providerSecrets = new Set(refs.map(([, name]) => name));
  for (const volume of volumes) {
    const named = [
      ...(volume.projected?.sources ?? []).map((source) => source.secret?.name),
      volume.secret?.secretName,
    ];
    for (const name of named) {
      assert.ok(!name || !providerSecrets.has(name), `${app} mounts the provider Secret ${name}`);
    }
  }
  for (const entry of container.env ?? []) {
    assert.ok(!entry.name.startsWith(SECRET_ENV_PREFIX), `${app} is given ${entry.name}`);
    const from = entry.valueFrom?.secretKeyRef?.name;
    assert.ok(!from || !providerSecrets.has(from), `${app} reads the provider Secret ${from}`);
  }
}

/** A Kubernetes quantity of bytes ("1Gi", "512Mi", "100M") as a number. */
function bytesOf(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  assert.ok(match, `a byte quantity: ${quantity}`);
  const unit = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(match[1]) * (match[2] ? unit[match[2] as keyof typeof unit] : 1);
}

/** The spool's bound when AI_GATEWAY_SPOOL_MAX_BYTES is unset, read from its source. */
function defaultSpoolBytes(): number {
  const source = read('libs/infra/src/event-transport/event-spool.ts');
  const product = /export const DEFAULT_SPOOL_MAX_BYTES = ([\d_ *]+);/.exec(source)?.[1];
  assert.ok(product, 'the spool names its default bound');
  return product
    .split('*')
    .reduce((bytes, factor) => bytes * Number(factor.trim().replaceAll('_', '')), 1);
}

for (const app of APP_NAMES) {
  test(`${app}: the data directory's emptyDir holds a full Kafka spool`, () => {
    // Past its sizeLimit the kubelet evicts the pod, and the spool (the events Kafka has not
    // taken yet) goes with it: the spool's own bound must be reached first, with room for
    // SQLite's journal and free pages.
    const { spec, container } = deploymentOf(app);
    const env = envOf(container);
    const dataDir = envValue(env.get('AI_GATEWAY_DATA_DIR'))!;
    const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === dataDir);
    const volume = (spec.template.spec.volumes ?? []).find((v) => v.name === mount?.name);
    const limit = volume?.emptyDir?.sizeLimit;
    assert.ok(limit, `${app}: the data emptyDir has a sizeLimit`);
    assert.notEqual(volume.emptyDir?.medium, 'Memory', `${app}: the spool is on disk`);
    const spool = Number(envValue(env.get('AI_GATEWAY_SPOOL_MAX_BYTES')) ?? defaultSpoolBytes());
    assert.ok(bytesOf(limit) >= 2 * spool, `${app}: ${limit} for a ${spool}-byte spool`);
  });
}

test('the usage-sink’s startup probe outlasts its own wait for ClickHouse', () => {
  // The admin port (and /healthz) opens only once start-up is done; the sink waits for
  // ClickHouse first, and its own error should say so, not a kill by the startup probe.
  const source = read('libs/usage-sink/src/usage-sink-runtime.ts');
  const deadline = /const CONNECT_DEADLINE_MS = ([\d_]+);/.exec(source)?.[1];
  assert.ok(deadline, 'the sink names its ClickHouse deadline');
  const waitMs = Number(deadline.replaceAll('_', ''));
  const probe = deploymentOf('usage-sink').container.startupProbe;
  // Kubernetes' defaults: every 10 s, 3 failures.
  const windowMs = (probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3) * 1000;
  // Room beyond it for Kafka's start before, and the migrations after.
  assert.ok(
    windowMs >= waitMs + 30_000,
    `startup window ${windowMs} ms, ClickHouse wait ${waitMs} ms`,
  );
});

/** The request-path apps: their calls may run minutes (a stream, a failover chain). */
const REQUEST_PATH_APPS: readonly AppName[] = ['ingress', 'router', 'provider-adapter'];

/** Room after the drain deadline for the cut answers to go out and the events to be written. */
const AFTER_DRAIN_MS = 10_000;

test('the request path drains within its grace period: preStop sleep, then the drain deadline, then room to finish', () => {
  const source = read('libs/runtime/src/drain-deadline.ts');
  const fallback = /export const DEFAULT_DRAIN_TIMEOUT_MS = ([\d_]+);/.exec(source)?.[1];
  assert.ok(fallback, 'the runtime names its default drain deadline');
  const defaultMs = Number(fallback.replaceAll('_', ''));
  for (const app of REQUEST_PATH_APPS) {
    const { spec, container } = deploymentOf(app);
    // Kubernetes' default grace is 30 s: far too short for a stream.
    const graceMs = (spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const sleep = container.lifecycle?.preStop?.exec?.command;
    assert.equal(sleep?.[0], 'sleep', `${app}: a preStop sleep, so endpoints drop the pod first`);
    const preStopMs = Number(sleep[1]) * 1000;
    const given = envValue(envOf(container).get('AI_GATEWAY_DRAIN_TIMEOUT_MS'));
    const drainMs = given === undefined ? defaultMs : Number(given);
    // SIGTERM comes after the preStop hook; the kubelet's SIGKILL at the grace period's end.
    assert.ok(
      preStopMs + drainMs + AFTER_DRAIN_MS <= graceMs,
      `${app}: preStop ${preStopMs} ms + drain ${drainMs} ms + ${AFTER_DRAIN_MS} ms > grace ${graceMs} ms`,
    );
    // The default is the one the manifests are made for: an unset variable still fits.
    assert.ok(
      preStopMs + defaultMs + AFTER_DRAIN_MS <= graceMs,
      `${app}: the default drain deadline ${defaultMs} ms does not fit the grace ${graceMs} ms`,
    );
  }
});

test('the internal hop token comes from one required Secret (the one being rotated out optional), on the three hop services only', () => {
  const hopApps: readonly AppName[] = ['ingress', 'router', 'provider-adapter'];
  for (const app of APP_NAMES) {
    const env = envOf(deploymentOf(app).container);
    for (const [name, key, optional] of [
      // Required: without the Secret a pod does not start, rather than serve wire routes
      // that take any caller as any user.
      ['AI_GATEWAY_INTERNAL_TOKEN', 'token', false],
      // Optional: set only while a rotation is under way.
      ['AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS', 'previous', true],
    ] as const) {
      if (!hopApps.includes(app)) {
        assert.ok(!env.has(name), `${app} speaks no internal hop: no ${name}`);
        continue;
      }
      const ref = env.get(name)?.valueFrom?.secretKeyRef;
      assert.deepEqual(
        { name: ref?.name, key: ref?.key, optional: ref?.optional === true },
        { name: 'ai-gateway-internal', key, optional },
        `${app}: ${name}`,
      );
    }
  }
});

interface PolicyPeer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: unknown;
}
interface NetworkPolicySpec {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress: { from?: PolicyPeer[]; ports?: { port: string | number; protocol?: string }[] }[];
}

/**
 * Where the scraping Prometheus runs: one local-config ConfigMap (never applied) whose values
 * kustomize's `replacements` copy into each NetworkPolicy's `metrics` rule.
 */
const scraper = find('ConfigMap', 'prometheus-scraper');

/** The Prometheus the ServiceMonitor's scrapes come from, as prometheus-scraper.yaml names it. */
const PROMETHEUS_PEER: PolicyPeer = {
  namespaceSelector: {
    matchLabels: { 'kubernetes.io/metadata.name': scraper?.data?.namespace ?? '' },
  },
  podSelector: { matchLabels: { 'app.kubernetes.io/name': scraper?.data?.podName ?? '' } },
};

/** The parts of a kustomize fieldPath: dot-separated, `[a.b/c]` a key holding dots. */
function fieldPathParts(path: string): string[] {
  return [...path.matchAll(/\[([^\]]+)\]|([^.[\]]+)/g)].map((m) => m[1] ?? m[2]);
}

/** Sets `value` at a kustomize fieldPath, as a replacement does; false when a part is missing. */
function setAtFieldPath(object: unknown, path: string, value: string): boolean {
  const parts = fieldPathParts(path);
  let at = object as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    const next = Array.isArray(at) ? (at as unknown[])[Number(part)] : at[part];
    if (typeof next !== 'object' || next === null) return false;
    at = next as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  if (!(last in at)) return false;
  at[last] = value;
  return true;
}

test('the scraping Prometheus is named once: prometheus-scraper.yaml, copied into every NetworkPolicy by kustomize', () => {
  assert.ok(scraper, 'a ConfigMap prometheus-scraper');
  // kustomize uses it and leaves it out of what it builds.
  assert.equal(scraper.metadata.annotations?.['config.kubernetes.io/local-config'], 'true');
  assert.ok(scraper.data?.namespace && scraper.data.podName, 'namespace and podName set');
  const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
  assert.ok(policies.length > 0);
  // Each value replaced with a marker through the kustomization's own replacements: every
  // policy's metrics peer then carries exactly the markers, so no copy is left unreplaced.
  const copies = policies.map((p) => structuredClone(p));
  const markers: Record<string, string> = {};
  for (const replacement of kustomization.replacements ?? []) {
    const { kind, name, fieldPath } = replacement.source;
    if (kind !== 'ConfigMap' || name !== 'prometheus-scraper') continue;
    const key = /^data\.(\w+)$/.exec(fieldPath)?.[1];
    assert.ok(key, `a replacement reads data.<key>, not ${fieldPath}`);
    markers[key] = `marker-${key}`;
    for (const target of replacement.targets) {
      assert.equal(target.select.kind, 'NetworkPolicy');
      for (const copy of copies) {
        if (target.select.name !== undefined && target.select.name !== copy.metadata.name) continue;
        for (const path of target.fieldPaths) {
          assert.ok(setAtFieldPath(copy, path, markers[key]), `${copy.metadata.name}: ${path}`);
        }
      }
    }
  }
  assert.deepEqual(Object.keys(markers).sort(), ['namespace', 'podName']);
  for (const copy of copies) {
    const spec = copy.spec as unknown as NetworkPolicySpec;
    const metricsRules = spec.ingress.filter((r) => r.ports?.some((p) => p.port === 'metrics'));
    assert.deepEqual(
      metricsRules.flatMap((r) => r.from),
      [
        {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': markers.namespace },
          },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': markers.podName } },
        },
      ],
      `${copy.metadata.name}: the metrics rule takes both values`,
    );
  }
});

// The router acts as any user the ingress names; the provider-adapter injects the keys.
for (const [app, caller] of [
  ['router', 'ingress'],
  ['provider-adapter', 'router'],
] as const) {
  test(`${app}: a NetworkPolicy lets only the ${caller}'s pods call its wire port, and Prometheus its admin port`, () => {
    const policy = find('NetworkPolicy', app);
    assert.ok(policy, `${app}: a NetworkPolicy`);
    const spec = policy.spec as unknown as NetworkPolicySpec;
    const { spec: deployment, container } = deploymentOf(app);
    // Selects exactly this app's pods, and isolates them for incoming traffic.
    assert.deepEqual(spec.podSelector.matchLabels, deployment.selector.matchLabels);
    assert.ok(spec.policyTypes.includes('Ingress'), `${app}: isolated for ingress`);
    const portNames = (container.ports ?? []).map((p) => p.name);
    const allowed = new Map<string | number, PolicyPeer[]>();
    for (const rule of spec.ingress) {
      // A rule without `from` or `ports` would open the pod to anyone, or every port.
      assert.ok(rule.from?.length, `${app}: every rule names who`);
      assert.ok(rule.ports?.length, `${app}: every rule names the ports`);
      for (const port of rule.ports) {
        assert.ok(portNames.includes(String(port.port)), `${app}: port ${port.port} is its own`);
        allowed.set(port.port, [...(allowed.get(port.port) ?? []), ...rule.from]);
      }
    }
    assert.deepEqual([...allowed.keys()].sort(), ['http', 'metrics']);
    // The caller's pods as its Deployment labels them, in this namespace only.
    const callerLabels = deploymentOf(caller).spec.template.metadata.labels;
    const wirePeers = allowed.get('http')!;
    assert.equal(wirePeers.length, 1, `${app}: one peer on the wire port`);
    const [wire] = wirePeers;
    assert.deepEqual(Object.keys(wire), ['podSelector'], `${app}: pods of this namespace only`);
    const selected = wire.podSelector?.matchLabels ?? {};
    assert.ok(
      Object.keys(selected).length > 0 &&
        Object.entries(selected).every(([k, v]) => callerLabels[k] === v),
      `${app}: the peer selects the ${caller}'s pods`,
    );
    assert.equal(selected['app.kubernetes.io/component'], caller, `${app}: only the ${caller}`);
    // The ServiceMonitor scrapes the Service's `metrics` port: Prometheus alone reaches it.
    assert.deepEqual(allowed.get('metrics'), [PROMETHEUS_PEER]);
    const monitor = find('ServiceMonitor', 'ai-gateway')?.spec as
      { endpoints: { port: string }[] } | undefined;
    assert.deepEqual(
      monitor?.endpoints.map((e) => e.port),
      ['metrics'],
    );
  });
}

/** The fewest pods an app runs: its HPA's minReplicas. */
function minReplicasOf(app: AppName): number {
  return (find('HorizontalPodAutoscaler', app)!.spec as unknown as HpaSpec).minReplicas;
}

interface PdbSpec {
  maxUnavailable?: number | string;
  minAvailable?: number | string;
  selector: { matchLabels: Record<string, string> };
}

test('every app run on two or more pods has a PodDisruptionBudget that lets a drain evict one at a time', () => {
  for (const app of APP_NAMES) {
    const { spec } = deploymentOf(app);
    const minReplicas = minReplicasOf(app);
    const pdb = find('PodDisruptionBudget', app);
    if (minReplicas < 2) {
      // One pod: a budget could only block drains (or allow what no budget allows).
      assert.equal(pdb, undefined, `${app} runs one pod: no PodDisruptionBudget`);
      continue;
    }
    assert.ok(pdb, `${app}: a PodDisruptionBudget, or a drain may evict every replica at once`);
    assert.equal(pdb.apiVersion, 'policy/v1');
    const pdbSpec = pdb.spec as unknown as PdbSpec;
    // Exactly its own pods: the Deployment's selector.
    assert.deepEqual(pdbSpec.selector.matchLabels, spec.selector.matchLabels, app);
    // Some pod may always go (a drain never hangs), never all of them.
    const allowed =
      pdbSpec.maxUnavailable !== undefined
        ? Number(pdbSpec.maxUnavailable)
        : minReplicas - Number(pdbSpec.minAvailable);
    assert.ok(
      Number.isInteger(allowed) && allowed >= 1 && allowed < minReplicas,
      `${app}: ${allowed} of ${minReplicas} pods may be evicted at once`,
    );
  }
});

test('every app run on two or more pods spreads them over nodes and zones, never blocking a pod', () => {
  for (const app of APP_NAMES) {
    const { spec } = deploymentOf(app);
    const minReplicas = minReplicasOf(app);
    const spread = spec.template.spec.topologySpreadConstraints ?? [];
    if (minReplicas < 2) continue;
    for (const key of ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']) {
      const constraint = spread.find((c) => c.topologyKey === key);
      assert.ok(constraint, `${app}: spread over ${key}`);
      // Its own pods only, and soft: a cluster of one node or zone still runs them all.
      assert.deepEqual(constraint.labelSelector.matchLabels, spec.selector.matchLabels, app);
      assert.equal(constraint.whenUnsatisfiable, 'ScheduleAnyway', `${app}: ${key}`);
    }
  }
});

test('no Deployment, Service, HPA or PodDisruptionBudget for an app that does not exist', () => {
  for (const m of manifests) {
    const perApp = ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'];
    if (perApp.includes(m.kind)) {
      assert.ok((APP_NAMES as readonly string[]).includes(m.metadata.name), m.metadata.name);
    }
  }
});

test('every variable name in app-env.ts occurs in the apps or libs', () => {
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', 'test', 'testing'].includes(entry.name)) walk(full);
      } else if (entry.name.endsWith('.ts') && !/\.(int-|e2e-)?spec\.ts$/.test(entry.name)) {
        sources.push(readFileSync(full, 'utf8'));
      }
    }
  };
  walk(join(root, 'apps'));
  walk(join(root, 'libs'));
  const all = sources.join('\n');
  for (const app of APP_NAMES) {
    for (const name of [...APP_ENV_VARS[app], ...APP_OPTIONAL_ENV_VARS[app]]) {
      assert.ok(new RegExp(`\\b${name}\\b`).test(all), `${name} (listed for ${app}) is read`);
    }
  }
});

test('the ServiceMonitor is the spec’s', () => {
  const monitor = manifests.filter((m) => m.kind === 'ServiceMonitor');
  assert.equal(monitor.length, 1);
  assert.deepEqual(monitor[0], {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'ai-gateway' },
    spec: {
      selector: { matchLabels: { app: 'ai-gateway' } },
      endpoints: [{ port: 'metrics', path: '/stats/prometheus', interval: '30s' }],
    },
  });
  assert.ok(adminPaths.includes('/stats/prometheus'));
});

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: { expr: string; legendFormat?: string; datasource?: { uid?: string } }[];
}

test('every dashboard query reads metrics and labels the registry exports, and shows all of the gateway’s', () => {
  const dashboard = JSON.parse(read('deploy/grafana/ai-gateway-dashboard.json')) as {
    panels: DashboardPanel[];
  };
  const exported = exportedMetrics();
  const used = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      const names = metricNames(target.expr);
      assert.ok(names.length > 0, `${panel.title}: reads a metric`);
      const known = new Set(TARGET_LABELS);
      for (const name of names) {
        const labels = exported.get(name);
        assert.ok(labels, `${panel.title}: ${name} is not a metric the gateway exports`);
        for (const label of labels) known.add(label);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
      for (const label of labelNames(target.expr, target.legendFormat)) {
        assert.ok(known.has(label), `${panel.title}: no metric of ${target.expr} has ${label}`);
      }
    }
  }
  // A metric the gateway adds should reach the operator: give it a panel.
  for (const name of exported.keys()) {
    if (!/^(ai_gateway|gen_ai)_/.test(name) || /_(bucket|sum|count)$/.test(name)) continue;
    assert.ok(used.has(name), `no dashboard panel shows ${name}`);
  }
});

test('every dashboard query reads each metric as its type allows (counters through rate or increase)', () => {
  const dashboard = JSON.parse(read('deploy/grafana/ai-gateway-dashboard.json')) as {
    panels: DashboardPanel[];
  };
  const types = exportedMetricTypes();
  const problems = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) =>
      typeProblems(target.expr, types).map((problem) => `${panel.title}: ${problem}`),
    ),
  );
  assert.deepEqual(problems, []);
});

test('consumer lag is summed over partitions, each partition taken once (the most any replica reports)', () => {
  // Every replica's local view reads every partition under the view's group, and a
  // rebalance can leave a partition reported by two members for a moment: a plain sum
  // over replicas counts that lag once per replica.
  const dashboard = JSON.parse(read('deploy/grafana/ai-gateway-dashboard.json')) as {
    panels: DashboardPanel[];
  };
  const lagQueries = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? [])
      .filter((target) => target.expr.includes('ai_gateway_kafka_consumer_lag'))
      .map((target) => `${panel.title}: ${target.expr}`),
  );
  assert.ok(lagQueries.length > 0, 'a panel shows the lag');
  for (const query of lagQueries) {
    assert.match(
      query,
      /max by \((?=[^)]*\bpartition\b)[^)]*\) \(ai_gateway_kafka_consumer_lag\)/,
      query,
    );
  }
});

test('the token panels name every token type the gateway records, and count only input and output as totals', () => {
  const dashboard = JSON.parse(read('deploy/grafana/ai-gateway-dashboard.json')) as {
    panels: (DashboardPanel & { description?: string })[];
  };
  const reading = dashboard.panels.filter((panel) =>
    (panel.targets ?? []).some((target) => target.expr.includes('ai_gateway_tokens_total')),
  );
  const byType = reading.find((panel) =>
    panel.targets?.some((target) => /by \([^)]*\btype\b/.test(target.expr)),
  );
  assert.ok(byType, 'a panel shows ai_gateway_tokens_total by type');
  for (const type of TOKEN_TYPES) {
    assert.match(byType.description ?? '', new RegExp(`\\b${type}\\b`), `${byType.title}: ${type}`);
  }
  // A total of tokens adds input and output only: the other types are parts of them.
  for (const panel of reading) {
    for (const target of panel.targets ?? []) {
      if (!/sum by \(user\)/.test(target.expr)) continue;
      assert.match(target.expr, /type=~"input\|output"/, panel.title);
      for (const part of TOKEN_TYPES.filter((type) => type !== 'input' && type !== 'output')) {
        assert.match(
          panel.description ?? '',
          new RegExp(`\\b${part}\\b`),
          `${panel.title}: ${part}`,
        );
      }
    }
  }
});

test('the dashboard’s panels have unique ids, do not overlap, use its data source, and sit in its rows', () => {
  const dashboard = JSON.parse(read('deploy/grafana/ai-gateway-dashboard.json')) as {
    panels: DashboardPanel[];
    templating: { list: { name: string; type: string }[] };
  };
  assert.ok(
    dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'),
  );
  const ids = dashboard.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, `panel ids repeat: ${ids.join(', ')}`);
  const cells = new Map<string, string>();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24, `${panel.title}: within the 24 columns`);
    for (let row = y; row < y + h; row++) {
      for (let column = x; column < x + w; column++) {
        const other = cells.get(`${row}:${column}`);
        assert.equal(other, undefined, `${panel.title} overlaps ${other}`);
        cells.set(`${row}:${column}`, panel.title);
      }
    }
    if (panel.type === 'row') continue;
    assert.equal(panel.datasource?.uid, '${datasource}', `${panel.title}: its data source`);
    for (const target of panel.targets ?? []) {
      assert.equal(target.datasource?.uid, '${datasource}', `${panel.title}: its data source`);
    }
  }
  const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((row) => row.title);
  assert.deepEqual(rows, [
    'Traffic',
    'Latency',
    'Cost & tokens',
    'Budgets',
    'Failover & backends',
    'Cache & Responses state',
    'Events & storage',
    'Edge errors',
    'Processes',
  ]);
  assert.equal(dashboard.panels[0].type, 'row', 'the first panel is a row');
});

test('the metric-name extraction sees through PromQL', () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.95, sum by (le, provider) (rate(x_bucket{a="b"}[$__rate_interval]))) / clamp_min(y, 1e-9)',
    ),
    ['x_bucket', 'y'],
  );
  assert.deepEqual(
    labelNames(
      'sum by (le, provider) (rate(x_bucket{a="b", c!~"d|e{f}"}[5m])) / on (g) y',
      '{{provider}} {{ h }}',
    ),
    ['le', 'provider', 'a', 'c', 'h'],
  );
});

test('the Dockerfile and the registry-free build make the same runtime', () => {
  const dockerfile = read('deploy/Dockerfile');
  const script = read('scripts/deploy/build-app-image.sh');
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
  const cmd = /^CMD (\[.*\])$/m.exec(runtime)?.[1];
  assert.ok(cmd, 'the runtime stage has a CMD');
  for (const [instruction, value] of [
    ['USER', '1000:1000'],
    ['WORKDIR', '/app'],
    ['CMD', cmd],
  ] as const) {
    assert.ok(runtime.includes(`\n${instruction} ${value}`), `Dockerfile: ${instruction} ${value}`);
    assert.ok(script.includes(`--change '${instruction} ${value}'`), `script: ${instruction}`);
  }
  for (const env of ['NODE_ENV=production', 'APP_MAIN=dist/apps/', 'NODE_OPTIONS=']) {
    assert.ok(runtime.includes(env) && script.includes(env), env);
  }
  // The script copies the Dockerfile's HEALTHCHECK; it must probe the admin port's /healthz.
  assert.match(runtime, /HEALTHCHECK[^\n]*\\\n\s+CMD .*process\.env\.ADMIN_PORT.*\/healthz/);
  assert.ok(adminPaths.includes('/healthz'));
});

test('the image, npm start and the benchmark run the apps with the same V8 flags', () => {
  const flags = /NODE_OPTIONS=(\S+)/.exec(read('deploy/Dockerfile'))?.[1];
  assert.ok(flags, 'the Dockerfile sets NODE_OPTIONS');
  assert.ok(read('scripts/deploy/build-app-image.sh').includes(`ENV NODE_OPTIONS=${flags}'`));
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    .start;
  assert.ok(start.includes(`node ${flags} dist/apps/gateway`), start);
  assert.ok(read('bench/lib/harness.mjs').includes(`GATEWAY_NODE_FLAGS = ['${flags}']`));
});

test('the image, npm start and the benchmark set glibc malloc alike', () => {
  const dockerfile = read('deploy/Dockerfile');
  const script = read('scripts/deploy/build-app-image.sh');
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    .start;
  const harness = read('bench/lib/harness.mjs');
  for (const [name, value] of [
    ['MALLOC_ARENA_MAX', '1'],
    ['MALLOC_TRIM_THRESHOLD_', '65536'],
  ]) {
    assert.match(dockerfile, new RegExp(`\\n\\s+${name}=${value} \\\\\\n`), `Dockerfile: ${name}`);
    assert.ok(script.includes(`--change 'ENV ${name}=${value}'`), `script: ${name}`);
    assert.ok(start.includes(`${name}=${value} `) && start.indexOf(name) < start.indexOf(' node '));
    assert.ok(harness.includes(`${name}: '${value}'`), `harness: ${name}`);
  }
});
