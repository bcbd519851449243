// A start refused for a setting that holds a credential says which setting is wrong and
// never prints the credential: the refusal lands on stderr, in the pod's log.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAppToExit } from '@aigw/testing/processes';

const PASSWORD = 'PwInTheUrl7Hq2Zx9Lm';

async function refusedStart(env: Record<string, string>) {
  const result = await runAppToExit('gateway', {
    AI_GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), 'aigw-startup-secrets-')),
    ...env,
  });
  return { code: result.code, output: result.stdout + result.stderr };
}

describe('a start refused for a URL setting with credentials', () => {
  for (const [name, value] of [
    // OTLP over gRPC (port 4317) is what many collectors document: not served here.
    ['OTEL_EXPORTER_OTLP_ENDPOINT', `grpc://otlp:${PASSWORD}@collector:4317`],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', `https://otlp:${PASSWORD}@collector:4318 /v1/traces`],
    ['REDIS_URL', `redis//:${PASSWORD}@redis:6379`],
    ['CLICKHOUSE_URL', `clickhouse://default:${PASSWORD}@clickhouse:9000`],
  ] as const) {
    it(`names ${name} without its password`, async () => {
      const { code, output } = await refusedStart({ [name]: value });
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(name));
      assert.ok(!output.includes(PASSWORD), output);
    });
  }

  it('still shows the rest of the URL, the password masked', async () => {
    const { output } = await refusedStart({
      OTEL_EXPORTER_OTLP_ENDPOINT: `grpc://otlp:${PASSWORD}@collector:4317`,
    });
    assert.match(output, /got "grpc:\/\/otlp:\[REDACTED\]@collector:4317"/);
  });
});
