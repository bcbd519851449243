// On its embedded defaults the all-in-one gateway talks to no Kafka, Redis or ClickHouse, so
// its modules must not load their client libraries at start-up (about 5 MB of heap); they
// load when a client is made (libs/infra/src/client-libraries.ts). One stray value import
// of 'kafkajs' anywhere in the gateway's module graph fails this. Nor, tracing off, the
// OpenTelemetry SDK (libs/observability/src/tracing), nor the built-in price catalog (about
// 18 MB resident), which loads on the first model no route prices
// (libs/config/src/domain/builtin-prices.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const CLIENT_LIBRARIES = ['kafkajs', 'ioredis', '@clickhouse/client'];

function loadedClientLibraries(): string[] {
  const paths = Object.keys(require.cache);
  return CLIENT_LIBRARIES.filter((name) =>
    paths.some((path) => path.includes(`/node_modules/${name}/`)),
  );
}

describe("the all-in-one gateway's start-up", () => {
  it('loads no client library of Kafka, Redis or ClickHouse', () => {
    assert.deepEqual(loadedClientLibraries(), [], 'loaded before the gateway was');
    // Loaded at run time, so the snapshot above is taken first.
    createRequire(__filename)('./gateway-bootstrap');
    assert.ok(
      Object.keys(require.cache).some((path) => path.includes('gateway-bootstrap')),
      'the gateway module graph was loaded',
    );
    assert.deepEqual(loadedClientLibraries(), []);
  });

  it('loads no OpenTelemetry SDK: tracing loads it only when it is configured', () => {
    createRequire(__filename)('./gateway-bootstrap');
    // The API package aside, which prom-client loads for itself.
    const sdk = Object.keys(require.cache).filter(
      (path) =>
        path.includes('/node_modules/@opentelemetry/') && !path.includes('/@opentelemetry/api/'),
    );
    assert.deepEqual(sdk, []);
  });

  it('loads no price catalog: a model no route prices loads it when first priced', () => {
    createRequire(__filename)('./gateway-bootstrap');
    const catalog = Object.keys(require.cache).filter((path) =>
      path.includes('/node_modules/@pydantic/genai-prices/'),
    );
    assert.deepEqual(catalog, []);
  });
});
