import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendConfig } from '@aigw/config';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import type { Logger, MetricsRegistry } from '@aigw/observability';
import type { ChainLink } from './domain/backend-chain';
import { RouterTelemetry } from './router-telemetry';

const link = (name: string): ChainLink => ({
  backend: { name, provider: 'openai' } as unknown as BackendConfig,
  upstreamModel: 'm',
  viaModel: 'm',
});

const request = (requestId: string): GatewayRequest => ({
  requestId,
  operation: 'chat',
  requestedModel: 'm',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'm', messages: [] },
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
});

describe('RouterTelemetry: fallback.occurred', () => {
  it("numbers a request's failovers from 1, as the event contract documents", () => {
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const metrics = { recordFallback: () => {} } as unknown as MetricsRegistry;
    const telemetry = new RouterTelemetry(publisher, metrics);
    const first = request('r1');
    telemetry.fallback(first, link('a'), link('b'), 'rateLimit');
    telemetry.fallback(first, link('b'), link('c'), 'timeout');
    // Another request starts its own count.
    telemetry.fallback(request('r2'), link('a'), link('b'), 'error');
    const attempts = events.map((event) => {
      assert.equal(event.type, 'fallback.occurred');
      return (event as GatewayEvent & { attempt: number }).attempt;
    });
    assert.deepEqual(attempts, [1, 2, 1]);
  });
});

describe('RouterTelemetry: cooldowns', () => {
  it('counts a cooldown by backend and reason and warns in the log, with no secret', () => {
    const counted: { backend: string; reason: string }[] = [];
    const warnings: { message: string; fields: Record<string, unknown> }[] = [];
    const metrics = {
      recordBackendCooldown: (labels: { backend: string; reason: string }) => counted.push(labels),
    } as unknown as MetricsRegistry;
    const logger = {
      warn: (message: string, fields: Record<string, unknown>) =>
        warnings.push({ message, fields }),
    } as unknown as Logger;
    const publisher: EventPublisher = { publish: () => undefined, flush: async () => {} };
    const backend = {
      name: 'primary',
      provider: 'openai',
      auth: { kind: 'apiKey', apiKey: 'sk-secret-never-logged' },
    } as unknown as BackendConfig;
    new RouterTelemetry(publisher, metrics, logger).cooledDown(backend, {
      reason: 'failures',
      ms: 30_000,
    });
    assert.deepEqual(counted, [{ backend: 'primary', reason: 'failures' }]);
    assert.equal(warnings.length, 1);
    assert.deepEqual(warnings[0].fields, {
      backend: 'primary',
      provider: 'openai',
      reason: 'failures',
      seconds: 30,
    });
    assert.doesNotMatch(JSON.stringify(warnings), /sk-secret/);
  });
});

describe('RouterTelemetry: streams cut for stalling', () => {
  it('counts the cut by backend and warns naming the request, so its client can be found', () => {
    const counted: string[] = [];
    const warnings: { message: string; fields: Record<string, unknown> }[] = [];
    const metrics = {
      recordStreamIdleTimeout: (backend: string) => counted.push(backend),
    } as unknown as MetricsRegistry;
    const logger = {
      warn: (message: string, fields: Record<string, unknown>) =>
        warnings.push({ message, fields }),
    } as unknown as Logger;
    const publisher: EventPublisher = { publish: () => undefined, flush: async () => {} };
    const backend = {
      name: 'primary',
      provider: 'openai',
      streamIdleTimeoutMs: 30_000,
    } as unknown as BackendConfig;
    new RouterTelemetry(publisher, metrics, logger).streamStalled(backend, request('r-stalled'));
    assert.deepEqual(counted, ['primary']);
    assert.deepEqual(warnings, [
      {
        message: 'stream cut: its backend sent nothing for its streamIdleTimeout',
        fields: { requestId: 'r-stalled', backend: 'primary', provider: 'openai', idleMs: 30_000 },
      },
    ]);
  });
});

describe('RouterTelemetry: request overrides', () => {
  it('counts each override applied, clamped or not, and logs them with the request id', () => {
    const counted: string[] = [];
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const metrics = {
      recordRequestOverride: (override: string, clamped: boolean) =>
        counted.push(`${override}:${clamped}`),
    } as unknown as MetricsRegistry;
    const logger = {
      info: (message: string, fields: Record<string, unknown>) => lines.push({ message, fields }),
    } as unknown as Logger;
    const publisher: EventPublisher = { publish: () => undefined, flush: async () => {} };
    const telemetry = new RouterTelemetry(publisher, metrics, logger);
    telemetry.overridden(request('r7'), {
      timeoutMs: 2000,
      retries: 3,
      retriesClamped: true,
      fallback: false,
    });
    telemetry.overridden(request('r8'), { retries: 0, retriesClamped: false });
    assert.deepEqual(counted, ['timeout:false', 'retries:true', 'fallback:false', 'retries:false']);
    assert.deepEqual(lines[0], {
      message: 'request overrides applied',
      fields: {
        requestId: 'r7',
        timeoutMs: 2000,
        retries: 3,
        retriesClamped: true,
        fallback: false,
      },
    });
    assert.equal(lines.length, 2);
  });
});
