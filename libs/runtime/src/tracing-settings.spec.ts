import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Logger, MetricsRegistry } from '@aigw/observability';
import { StartupError } from './listen';
import { exportWarning, openTracing, tracingSettings } from './tracing-settings';

/** The OpenTelemetry modules loaded so far, but the API, which prom-client loads itself. */
function loadedOpenTelemetry(): string[] {
  return Object.keys(require.cache).filter(
    (path) =>
      path.includes('/node_modules/@opentelemetry/') && !path.includes('/@opentelemetry/api/'),
  );
}

function startupError(env: Record<string, string>): string {
  try {
    tracingSettings(env, 'gateway');
  } catch (error) {
    assert.ok(error instanceof StartupError, String(error));
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  assert.fail('no start-up error');
}

describe('tracing settings from the OTEL_* environment', () => {
  it('are off without an OTLP endpoint, and off when switched off', () => {
    assert.equal(tracingSettings({}, 'gateway'), undefined);
    assert.equal(
      tracingSettings({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_EXPORTER: 'otlp' }, 'gateway'),
      undefined,
    );
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.equal(
      tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'gateway'),
      undefined,
    );
    assert.equal(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'gateway'), undefined);
  });

  it('send to /v1/traces under the endpoint, or to the traces endpoint as given', () => {
    const base = (value: string) =>
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: value }, 'router')?.url;
    assert.equal(base('http://collector:4318'), 'http://collector:4318/v1/traces');
    assert.equal(base('https://otlp.example.com/otlp/'), 'https://otlp.example.com/otlp/v1/traces');
    assert.equal(
      tracingSettings(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/custom/path',
        },
        'gateway',
      )?.url,
      'http://tempo:4318/custom/path',
    );
  });

  it('name the service ai-gateway-<app> unless OTEL_SERVICE_NAME says otherwise', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.deepEqual(tracingSettings(endpoint, 'provider-adapter'), {
      serviceName: 'ai-gateway-provider-adapter',
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      sampler: { root: 'always_on', parentBased: true, ratio: 1 },
    });
    assert.equal(
      tracingSettings({ ...endpoint, OTEL_SERVICE_NAME: 'llm-edge' }, 'gateway')?.serviceName,
      'llm-edge',
    );
  });

  it('take the OTLP protocol, the traces one first', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.equal(
      tracingSettings({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'g')?.protocol,
      'http/json',
    );
    assert.equal(
      tracingSettings(
        {
          ...endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        },
        'g',
      )?.protocol,
      'http/json',
    );
  });

  it('take the sampler and its ratio', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.deepEqual(
      tracingSettings(
        {
          ...endpoint,
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.25',
        },
        'g',
      )?.sampler,
      { root: 'traceidratio', parentBased: true, ratio: 0.25 },
    );
    assert.deepEqual(
      tracingSettings({ ...endpoint, OTEL_TRACES_SAMPLER: 'always_off' }, 'g')?.sampler,
      {
        root: 'always_off',
        parentBased: false,
        ratio: 1,
      },
    );
  });

  it('refuse at start, on one line, what cannot work', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.match(
      startupError({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
      /^OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL, got "collector:4318"$/,
    );
    assert.match(
      startupError({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }),
      /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be/,
    );
    const withCredentials = startupError({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:s3cret@otlp.example.com',
    });
    assert.match(withCredentials, /must not carry credentials/);
    assert.ok(!withCredentials.includes('s3cret'));
    assert.match(
      startupError({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
      /OTEL_EXPORTER_OTLP_PROTOCOL must be "http\/protobuf" or "http\/json"/,
    );
    assert.match(
      startupError({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' }),
      /OTEL_TRACES_EXPORTER must be "otlp" or "none"/,
    );
    assert.match(
      startupError({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' }),
      /OTEL_TRACES_SAMPLER must be one of always_on/,
    );
    assert.match(
      startupError({
        ...endpoint,
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '2',
      }),
      /OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "2"/,
    );
  });
});

describe('opening tracing', () => {
  it('loads no OpenTelemetry SDK module when tracing is off', async () => {
    assert.deepEqual(loadedOpenTelemetry(), [], 'loaded before the test');
    const logged: string[] = [];
    const logger = new Logger({ write: (line) => logged.push(line) });
    assert.equal(
      await openTracing(tracingSettings({}, 'gateway'), logger, new MetricsRegistry()),
      undefined,
    );
    assert.deepEqual(loadedOpenTelemetry(), []);
    assert.deepEqual(logged, []);
  });
});

describe('the export failure warning', () => {
  it('warns at once, then at most once a minute with the failures in between', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new Logger({
      write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    let now = 0;
    const warn = exportWarning(logger, () => now);
    warn(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    now = 5_000;
    warn(new Error('again'));
    now = 30_000;
    warn(new Error('again'));
    assert.equal(lines.length, 1);
    now = 61_000;
    warn(new Error('still down'));
    assert.equal(lines.length, 2);
    assert.equal(lines[0].level, 'warn');
    assert.equal(lines[0].reason, 'connect ECONNREFUSED 127.0.0.1:4318');
    assert.equal(lines[0].failures, 1);
    assert.equal(lines[1].reason, 'still down');
    assert.equal(lines[1].failures, 3);
  });
});
