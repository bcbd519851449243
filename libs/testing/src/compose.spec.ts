// docker-compose.yml (the split deployment; the all-in-one gateway is `npm start`, not a
// compose service) against what the apps read: every app service runs the shared image
// with its own command, sets every variable in APP_ENV_VARS and nothing the app does not
// read, and is health-checked on its admin port; everything is published on 127.0.0.1 only.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseGatewayConfig, secretEnvVarName } from '@aigw/config';
import { APP_ENV_VARS, APP_NAMES, appReadsEnv } from './app-env';

const root = join(__dirname, '..', '..', '..');

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
const services = compose.services;

test('compose has Kafka, Redis, ClickHouse and every app of the split deployment', () => {
  assert.deepEqual(
    Object.keys(services).sort(),
    ['clickhouse', 'kafka', 'redis', ...APP_NAMES].sort(),
  );
  assert.equal(services.kafka.environment!.KAFKA_PROCESS_ROLES, 'broker,controller');
});

// The all-in-one gateway (apps/gateway) is the other way to run it, one process with
// every service in it, started by `npm start`; compose is the split deployment only.
test('the all-in-one gateway is not in compose, and its header says why', () => {
  assert.ok(existsSync(join(root, 'apps', 'gateway', 'project.json')), 'apps/gateway exists');
  assert.ok(!(APP_NAMES as readonly string[]).includes('gateway'));
  assert.equal(services.gateway, undefined);
  const header = readFileSync(join(root, 'docker-compose.yml'), 'utf8').split('\n\n')[0];
  assert.match(header, /all-in-one app \(apps\/gateway/);
  assert.match(header, /`npm start`/);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.match(pkg.scripts.start, /dist\/apps\/gateway\/src\/main\.js/, 'npm start runs it');
});

for (const app of APP_NAMES) {
  test(`${app}: shared image, own command, the variables it reads`, () => {
    const service = services[app];
    assert.ok(existsSync(join(root, 'apps', app, 'project.json')), `apps/${app} exists`);
    assert.equal(service.image, 'ai-gateway:local');
    assert.deepEqual(service.build, { context: '.', dockerfile: 'deploy/Dockerfile' });
    assert.ok(existsSync(join(root, 'deploy', 'Dockerfile')));
    assert.deepEqual(service.command, ['node', `dist/apps/${app}/src/main.js`]);

    const env = service.environment ?? {};
    for (const name of APP_ENV_VARS[app]) assert.ok(name in env, `${app}: ${name} is set`);
    for (const name of Object.keys(env)) {
      assert.ok(appReadsEnv(app, name), `${app}: ${name} is not read by the app`);
    }
    for (const [name, value] of Object.entries(env)) {
      assert.equal(typeof value, 'string', `${app}: ${name} is a string`);
    }
    assert.equal(env.KAFKA_BROKERS, 'kafka:9092');
    assert.equal(env.REDIS_URL, 'redis://redis:6379');
    assert.equal(env.CLICKHOUSE_URL, 'http://clickhouse:8123');
    assert.notEqual(env.PORT, env.ADMIN_PORT);
    for (const [name, target] of [
      ['ROUTER_URL', 'router'],
      ['PROVIDER_ADAPTER_URL', 'provider-adapter'],
    ] as const) {
      if (env[name] !== undefined)
        assert.equal(env[name], `http://${target}:${services[target].environment!.PORT}`);
    }

    const probe = (service.healthcheck?.test ?? []).join(' ');
    assert.match(probe, /http:\/\/127\.0\.0\.1:' \+ process\.env\.ADMIN_PORT \+ '\/healthz/);
    for (const dependency of ['kafka', 'redis', 'clickhouse']) {
      assert.equal(service.depends_on?.[dependency]?.condition, 'service_healthy');
    }
  });
}

test('ingress, router and provider-adapter take the internal token and the one being rotated out', () => {
  for (const app of ['ingress', 'router', 'provider-adapter'] as const) {
    const env = services[app].environment ?? {};
    // Unset on the host, both are blank, which the apps read as unset.
    assert.equal(env.AI_GATEWAY_INTERNAL_TOKEN, '${AIGW_INTERNAL_TOKEN:-}', app);
    assert.equal(env.AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS, '${AIGW_INTERNAL_TOKEN_PREVIOUS:-}', app);
  }
  for (const app of ['budget', 'usage-sink'] as const) {
    assert.equal(services[app].environment?.AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS, undefined, app);
  }
});

test('the provider-adapter takes the quickstart config’s keys from the host, as npm start does', () => {
  // `AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY=sk-... docker compose up`, as the README gives it
  // for npm start; unset on the host it is blank, which counts as missing (optional there).
  const quickstart = readFileSync(join(root, 'config', 'quickstart.yaml'), 'utf8');
  const loaded = parseGatewayConfig(quickstart, { missingSecrets: 'warn', env: {} });
  assert.ok(loaded.ok);
  const variables = loaded.config.routes.flatMap((route) =>
    route.backends.flatMap((b) =>
      b.auth.kind === 'apiKey' ? [secretEnvVarName(b.auth.secretRef)] : [],
    ),
  );
  assert.ok(variables.length > 0, 'the quickstart names a key');
  const env = services['provider-adapter'].environment ?? {};
  for (const variable of variables) assert.equal(env[variable], `\${${variable}:-}`, variable);
  for (const app of APP_NAMES.filter((name) => name !== 'provider-adapter')) {
    for (const variable of variables)
      assert.equal(services[app].environment?.[variable], undefined);
  }
});

test('published ports listen on 127.0.0.1 only', () => {
  // The host port may be movable: `127.0.0.1:${AIGW_X_PORT:-8080}:8080`.
  const hostPort = String.raw`(\d+|\$\{AIGW_[A-Z_]+_PORT:-\d+\})`;
  for (const [name, service] of Object.entries(services)) {
    for (const port of service.ports ?? []) {
      assert.match(port, new RegExp(`^127\\.0\\.0\\.1:${hostPort}:\\d+$`), `${name}: ${port}`);
    }
  }
});

test('infrastructure services have health checks', () => {
  for (const name of ['kafka', 'redis', 'clickhouse']) {
    assert.ok((services[name].healthcheck?.test ?? []).length > 0, name);
  }
});

// The data directory holds the Kafka spool (events not yet sent) and SQLite stores: on the
// container's own layer they were lost whenever compose recreated it (an upgrade, a
// changed setting), spooled events with them.
test('every app keeps its data directory on a named volume of its own', () => {
  const seen = new Set<string>();
  for (const app of APP_NAMES) {
    const service = services[app];
    const dataDir = service.environment?.AI_GATEWAY_DATA_DIR;
    assert.equal(dataDir, '/var/lib/ai-gateway', app);
    const mounts = (service.volumes ?? []).map((volume) => volume.split(':'));
    const data = mounts.filter(([, target]) => target === dataDir);
    assert.equal(data.length, 1, `${app} mounts a volume at ${dataDir}`);
    const [source] = data[0];
    assert.match(source, /^[a-z][a-z0-9-]*$/, `${app}: a named volume, not a host path`);
    assert.ok(compose.volumes && source in compose.volumes, `${source} is declared`);
    assert.ok(!seen.has(source), `${source} is not shared with another service`);
    seen.add(source);
    assert.ok(
      mounts.some(
        ([src, target, mode]) =>
          src === './config' && target === '/etc/ai-gateway' && mode === 'ro',
      ),
      `${app} still mounts the config`,
    );
  }
});

/** Docker's and podman's stop timeout when a service names none: SIGKILL 10 s after SIGTERM. */
const ENGINE_STOP_TIMEOUT_MS = 10_000;
/** Room after the drain deadline to write the cut answers and the events (as in deploy/k8s). */
const AFTER_DRAIN_MS = 10_000;

/** A compose duration as the request path uses it: `15s`, `1m30s`. */
function durationMs(text: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  assert.ok(match && text !== '', `a duration in m and s: ${text}`);
  return (Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 1000;
}

// A stop ends the model calls still running at AI_GATEWAY_DRAIN_TIMEOUT_MS with a 503 or a
// stream's error event; the engine's SIGKILL must come after that and the events written.
test('the request path drains within its stop grace period, and within the engine default too', () => {
  for (const app of ['ingress', 'router', 'provider-adapter'] as const) {
    const service = services[app];
    const drain = service.environment?.AI_GATEWAY_DRAIN_TIMEOUT_MS;
    assert.ok(drain !== undefined, `${app}: the drain deadline is set (310 s by default)`);
    const drainMs = Number(drain);
    assert.ok(service.stop_grace_period, `${app}: a stop_grace_period`);
    const graceMs = durationMs(service.stop_grace_period);
    assert.ok(
      drainMs + AFTER_DRAIN_MS <= graceMs,
      `${app}: drain ${drainMs} ms + ${AFTER_DRAIN_MS} ms > stop_grace_period ${graceMs} ms`,
    );
    // Older podman-compose ignores stop_grace_period: the cut answers still go out then.
    assert.ok(drainMs < ENGINE_STOP_TIMEOUT_MS, `${app}: drain ${drainMs} ms is not below 10 s`);
  }
});
