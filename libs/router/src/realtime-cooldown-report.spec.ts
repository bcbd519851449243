import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import type { BackendConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type RealtimeCall,
  type RealtimeConnection,
} from '@aigw/contracts/data-plane';
import { BackendHealth, type Cooldown } from './domain/backend-health';
import { RealtimeRouting } from './realtime-routing';
import { realtimeSession } from './testing/scripted-providers';

// A cooldown a Realtime connect starts is reported as a chat call's is: the
// ai_gateway_backend_cooldowns_total counter and the warning come from the observer.
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: east, priority: 0, provider: azure, baseUrl: "https://east.openai.azure.com", model: rt-east, modelNameOverride: voice}
  - {name: direct, priority: 1, provider: openai, model: gpt-realtime, modelNameOverride: voice}
  failover: {on: [rateLimit, error]}
`);

const session: GatewayRequest = realtimeSession();

describe('Realtime cooldowns', () => {
  it('tells the observer of a cooldown a refused connect started', async () => {
    const cooled: Array<{ backend: string; cooldown: Cooldown }> = [];
    const routing = new RealtimeRouting({
      config: () => CONFIG,
      health: new BackendHealth(),
      providers: {
        connectRealtime: (call: RealtimeCall): Promise<RealtimeConnection> =>
          call.target.backendName === 'east'
            ? Promise.reject(
                new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down', {
                  retryAfterMs: 20_000,
                }),
              )
            : Promise.resolve({
                servedBy: { backend: 'direct', provider: 'openai', model: 'gpt-realtime' },
                send: () => undefined,
                close: () => undefined,
              }),
      },
      observer: {
        cooledDown: (backend: BackendConfig, cooldown: Cooldown) =>
          cooled.push({ backend: backend.name, cooldown }),
      },
    });
    const listener = { frame: () => undefined, closed: () => undefined };
    const connection = await routing.connectRealtime(
      session,
      listener,
      new AbortController().signal,
    );
    assert.equal(connection.servedBy.backend, 'direct');
    assert.deepEqual(cooled, [
      { backend: 'east', cooldown: { reason: 'retry_after', ms: 20_000 } },
    ]);
  });
});

// A Realtime session failing over is counted as a chat call's failover is: the observer's
// fallback makes ai_gateway_fallback_total and the FallbackOccurred event.
describe('Realtime failovers', () => {
  it('tells the observer of each failover, from and to which backend, and why', async () => {
    const fallbacks: string[] = [];
    const routing = new RealtimeRouting({
      config: () => CONFIG,
      health: new BackendHealth(),
      providers: {
        connectRealtime: (call: RealtimeCall): Promise<RealtimeConnection> =>
          call.target.backendName === 'east'
            ? Promise.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down'))
            : Promise.resolve({
                servedBy: { backend: 'direct', provider: 'openai', model: 'gpt-realtime' },
                send: () => undefined,
                close: () => undefined,
              }),
      },
      observer: {
        fallback: (request, from, to, reason) =>
          fallbacks.push(
            `${request.requestId}: ${from.backend.name}->${to.backend.name} ${reason}`,
          ),
      },
    });
    const listener = { frame: () => undefined, closed: () => undefined };
    const connection = await routing.connectRealtime(
      session,
      listener,
      new AbortController().signal,
    );
    assert.equal(connection.servedBy.backend, 'direct');
    assert.deepEqual(fallbacks, [`${session.requestId}: east->direct error`]);
  });
});
