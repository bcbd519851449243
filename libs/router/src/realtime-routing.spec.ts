import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type RealtimeCall,
  type RealtimeConnection,
  type RealtimeFrame,
} from '@aigw/contracts/data-plane';
import { BackendHealth } from './domain/backend-health';
import { RealtimeRouting } from './realtime-routing';
import { realtimeSession } from './testing/scripted-providers';

const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: claude, priority: 0, provider: anthropic, model: claude-haiku-4-5, modelNameOverride: voice}
  - {name: east, priority: 1, provider: azure, baseUrl: "https://east.openai.azure.com", model: rt-east, modelNameOverride: voice}
  - {name: direct, priority: 2, provider: openai, model: gpt-realtime, modelNameOverride: voice}
  - {name: chat, provider: anthropic, model: claude-sonnet-4-5}
  failover: {on: [rateLimit, timeout, error]}
`);

const request = realtimeSession;

/** Providers that fail as scripted per backend, else open a session that records what it got. */
function providers(failures: Record<string, DataPlaneError> = {}) {
  const calls: RealtimeCall[] = [];
  const sent: RealtimeFrame[] = [];
  return {
    calls,
    sent,
    connectRealtime: (call: RealtimeCall): Promise<RealtimeConnection> => {
      calls.push(call);
      const failure = failures[call.target.backendName];
      if (failure) return Promise.reject(failure);
      return Promise.resolve({
        servedBy: {
          backend: call.target.backendName,
          provider: call.target.provider,
          model: call.target.model,
        },
        send: (frame) => sent.push(frame),
        close: () => undefined,
      });
    },
  };
}

const silent = { frame: () => undefined, closed: () => undefined };
const signal = new AbortController().signal;

describe('RealtimeRouting', () => {
  it('skips providers without realtime and renames the model both ways', async () => {
    const ports = providers();
    const heard: RealtimeFrame[] = [];
    const routing = new RealtimeRouting({ config: () => CONFIG, providers: ports });
    const session = await routing.connectRealtime(
      request(),
      { frame: (frame) => heard.push(frame), closed: () => undefined },
      signal,
    );
    assert.equal(session.servedBy.backend, 'east');
    assert.deepEqual(
      ports.calls.map((call) => [call.target.provider, call.target.model]),
      [['azure', 'rt-east']],
    );
    session.send(JSON.stringify({ type: 'session.update', session: { model: 'voice' } }));
    assert.deepEqual(JSON.parse(ports.sent[0] as string), {
      type: 'session.update',
      session: { model: 'rt-east' },
    });
    ports.calls[0].listener.frame(
      JSON.stringify({ type: 'session.created', session: { model: 'rt-east' } }),
    );
    assert.deepEqual(JSON.parse(heard[0] as string), {
      type: 'session.created',
      session: { model: 'voice' },
    });
  });

  it('fails over on the route’s triggers and cools the backend, not on a client error', async () => {
    const health = new BackendHealth();
    const down = new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down', {
      retryAfterMs: 30_000,
    });
    const ports = providers({ east: down });
    const routing = new RealtimeRouting({ config: () => CONFIG, providers: ports, health });
    const session = await routing.connectRealtime(request(), silent, signal);
    assert.equal(session.servedBy.backend, 'direct');
    assert.ok(health.isCooling('east'));

    const refused = providers({
      direct: new DataPlaneError(DataPlaneErrorCode.UpstreamRejected, 'bad session'),
    });
    const next = new RealtimeRouting({ config: () => CONFIG, providers: refused, health });
    await assert.rejects(next.connectRealtime(request(), silent, signal), /bad session/);
    assert.equal(refused.calls.length, 1, 'the cooled backend last, the refusal final');
  });

  it('fails over when a backend answers 404 (no such realtime deployment), as on error', async () => {
    const missing = new DataPlaneError(DataPlaneErrorCode.UpstreamRejected, 'no deployment', {
      upstreamStatus: 404,
    });
    const ports = providers({ east: missing });
    const routing = new RealtimeRouting({ config: () => CONFIG, providers: ports });
    const session = await routing.connectRealtime(request(), silent, signal);
    assert.equal(session.servedBy.backend, 'direct');
    assert.deepEqual(
      ports.calls.map((call) => call.target.backendName),
      ['east', 'direct'],
    );
  });

  it('refuses a chain without realtime, a model not served and one the tier forbids', async () => {
    const routing = new RealtimeRouting({ config: () => CONFIG, providers: providers() });
    await assert.rejects(
      routing.connectRealtime(request({ requestedModel: 'claude-sonnet-4-5' }), silent, signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'model' &&
        /claude-sonnet-4-5/.test(error.message),
    );
    await assert.rejects(
      routing.connectRealtime(request({ requestedModel: 'nope' }), silent, signal),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.ModelNotFound,
    );
    await assert.rejects(
      routing.connectRealtime(request({ allowedModels: ['chat-model'] }), silent, signal),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.ModelNotAllowed,
    );
  });
});
