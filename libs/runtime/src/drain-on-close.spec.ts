// A stopping service (close(), as on SIGTERM) starts its drain deadline: a model call still
// running at AI_GATEWAY_DRAIN_TIMEOUT_MS is ended with the 503 and counted on
// ai_gateway_drain_cut_requests_total, so the close ends instead of waiting on it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { ServiceRuntime } from './service-runtime';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-drain-close-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

const DRAIN_MS = 100;

test('close() starts the drain deadline: the call still running then is ended, counted, and the close completes', async () => {
  const runtime = await ServiceRuntime.open(
    {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_LOG_LEVEL: 'error',
      AI_GATEWAY_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
    },
    { app: 'gateway', missingSecrets: 'not-needed' },
  );
  let closed = false;
  try {
    // A backend that never answers; only the call's signal ends it.
    const router = runtime.drainBoundedRouter({
      listModels: () => [],
      route: (_request, signal) =>
        new Promise<GatewayAnswer>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true }),
        ),
    });
    const answered = router.route(
      { requestId: 'r' } as GatewayRequest,
      new AbortController().signal,
    );
    const outcome = answered.then(
      () => 'answered',
      (error: { code?: string }) => error.code,
    );
    // As the listener's close waits for the answers in flight.
    runtime.onClose(async () => {
      await outcome;
    });
    // The countdown starts at the stop, not at start-up: past DRAIN_MS nothing is cut yet.
    await new Promise((resolve) => setTimeout(resolve, DRAIN_MS * 1.5));
    assert.equal(runtime.drain.passed, false);
    const started = performance.now();
    await runtime.close();
    closed = true;
    const tookMs = performance.now() - started;
    assert.equal(await outcome, DataPlaneErrorCode.NoBackendAvailable);
    assert.ok(tookMs >= DRAIN_MS * 0.9 && tookMs < 5_000, `closed in ${Math.round(tookMs)} ms`);
    const counted = (await runtime.metrics.metrics())
      .split('\n')
      .find((line) => line.startsWith('ai_gateway_drain_cut_requests_total{phase="waiting"}'));
    assert.equal(counted?.split(' ').at(-1), '1');
  } finally {
    if (!closed) await runtime.close();
  }
});
