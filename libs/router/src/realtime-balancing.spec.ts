// Realtime sessions are spread over a model's backends of equal priority as its chat calls
// are: by weight, in turn, a weight-0 standby only when the others refuse.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type RealtimeCall,
  type RealtimeConnection,
} from '@aigw/contracts/data-plane';
import { RealtimeRouting } from './realtime-routing';
import { realtimeSession } from './testing/scripted-providers';

const CONFIG = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: voice}
spec:
  backends:
  - {name: standby, priority: 0, weight: 0, provider: azure, baseUrl: "https://standby.openai.azure.com", model: rt, modelNameOverride: voice}
  - {name: east, priority: 0, weight: 3, provider: azure, baseUrl: "https://east.openai.azure.com", model: rt, modelNameOverride: voice}
  - {name: west, priority: 0, provider: azure, baseUrl: "https://west.openai.azure.com", model: rt, modelNameOverride: voice}
  failover: {on: [rateLimit, timeout, error]}
`);

/** Opens every session, but on the backends in `refusing`, which answer 503. */
function providers(refusing: ReadonlySet<string> = new Set()) {
  const called: string[] = [];
  return {
    called,
    connectRealtime: (call: RealtimeCall): Promise<RealtimeConnection> => {
      const backend = call.target.backendName;
      called.push(backend);
      if (refusing.has(backend)) {
        return Promise.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down'));
      }
      return Promise.resolve({
        servedBy: { backend, provider: call.target.provider, model: call.target.model },
        send: () => undefined,
        close: () => undefined,
      });
    },
  };
}

const silent = { frame: () => undefined, closed: () => undefined };

async function sessionsOn(routing: RealtimeRouting, count: number): Promise<string[]> {
  const served: string[] = [];
  for (let i = 0; i < count; i++) {
    const session = await routing.connectRealtime(
      realtimeSession(),
      silent,
      new AbortController().signal,
    );
    served.push(session.servedBy.backend);
  }
  return served;
}

describe('RealtimeRouting: backends of equal priority', () => {
  it('spreads sessions by weight and keeps a weight-0 standby for when the others refuse', async () => {
    const ports = providers();
    const routing = new RealtimeRouting({ config: () => CONFIG, providers: ports });
    const served = await sessionsOn(routing, 8);
    assert.deepEqual(
      {
        east: served.filter((b) => b === 'east').length,
        west: served.filter((b) => b === 'west').length,
      },
      { east: 6, west: 2 },
      served.join(),
    );
    const failing = providers(new Set(['east', 'west']));
    const covered = new RealtimeRouting({ config: () => CONFIG, providers: failing });
    assert.deepEqual(await sessionsOn(covered, 1), ['standby']);
    assert.equal(failing.called.at(-1), 'standby', 'tried last');
  });
});
