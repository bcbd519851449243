// A call naming a file one backend holds (held_by, written by the edge) goes to that
// backend alone: not where load balancing or a cooldown would send it, and never failed
// over to a backend without the file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import { BackendHealth } from './domain/backend-health';
import { FailoverRouter } from './failover-router';

function config(loadBalancing = ''): GatewayConfig {
  const result = parseGatewayConfig(
    `
kind: AIGatewayRoute
metadata: {name: r}
spec:
  ${loadBalancing}
  backends:
  - {name: a, priority: 0, provider: google-gemini, model: gemini-2.5-flash, modelNameOverride: m}
  - {name: b, priority: 0, provider: google-gemini, model: gemini-2.5-flash, modelNameOverride: m}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

function heldFileRequest(holder: string, narrowed = true): GatewayRequest {
  const file = {
    file_id: 'https://g/files/x',
    mime_type: 'text/plain',
    held_by: { route: 'r', backend: holder },
  };
  return {
    requestId: 'r',
    operation: 'chat',
    requestedModel: 'm',
    stream: false,
    clientWantsStreamUsage: false,
    body: {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'file', file },
            { type: 'text', text: 'hi' },
          ],
        },
      ],
    },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
    ...(narrowed ? { overrides: { fallback: false as const } } : {}),
  };
}

function backends(failing = new Set<string>(), failure = DataPlaneErrorCode.UpstreamError) {
  const called: string[] = [];
  return {
    called,
    async invoke(call: ProviderCall): Promise<GatewayAnswer> {
      const backend = call.target.backendName;
      called.push(backend);
      if (failing.has(backend)) {
        throw new DataPlaneError(failure, `backend "${backend}" refused`);
      }
      return {
        kind: 'json',
        status: 200,
        body: {},
        usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
        servedBy: { backend, provider: call.target.provider, model: call.target.model },
      };
    },
  };
}

const signal = () => new AbortController().signal;
const balanced = config('loadBalancing: {strategy: weighted-round-robin}');

describe('a held file pins its call to the holding backend', () => {
  it('goes to the holder whichever backend weighted round robin would pick', async () => {
    const providers = backends();
    const router = new FailoverRouter({
      config: () => balanced,
      providers,
    });
    for (let i = 0; i < 4; i++) await router.route(heldFileRequest('a'), signal());
    assert.deepEqual(providers.called, ['a', 'a', 'a', 'a']);
  });

  it('tries a cooled-down holder, the one backend with the file', async () => {
    const providers = backends();
    const health = new BackendHealth();
    health.recordFailure('a', 60_000, 'rateLimit');
    assert.equal(health.isCooling('a'), true);
    const router = new FailoverRouter({ config: () => config(), providers, health });
    const answer = await router.route(heldFileRequest('a'), signal());
    assert.equal(answer.servedBy.backend, 'a');
    assert.deepEqual(providers.called, ['a']);
  });

  it('calls a drained holder: a drain leaves a backend as the last resort, and no other has the file', async () => {
    const providers = backends();
    const health = new BackendHealth();
    health.drain('a', { operator: 'alice' });
    const router = new FailoverRouter({ config: () => config(), providers, health });
    await router.route(heldFileRequest('a'), signal());
    assert.deepEqual(providers.called, ['a']);
  });

  it('does not fail over when the holder fails, and says why', async () => {
    const providers = backends(new Set(['a']));
    const router = new FailoverRouter({ config: () => config(), providers });
    await assert.rejects(
      router.route(heldFileRequest('a'), signal()),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.UpstreamError &&
        /holding the file/.test(error.message) &&
        /no other backend was tried/.test(error.message),
    );
    assert.deepEqual(providers.called, ['a']);
  });

  it("passes the holder's refusal of the request itself on as it is, blaming no backend", async () => {
    const providers = backends(new Set(['a']), DataPlaneErrorCode.InvalidRequest);
    const router = new FailoverRouter({ config: () => config(), providers });
    await assert.rejects(
      router.route(heldFileRequest('a'), signal()),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.message === 'backend "a" refused',
    );
    assert.deepEqual(providers.called, ['a']);
  });

  it('answers a 503 naming why when the holder no longer serves the model', async () => {
    const providers = backends();
    const router = new FailoverRouter({ config: () => config(), providers });
    await assert.rejects(
      router.route(heldFileRequest('gone'), signal()),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.NoBackendAvailable &&
        /upload it again/.test(error.message),
    );
    assert.deepEqual(providers.called, []);
  });

  it("takes no pin from a client's own held_by beside its file_data (no file_id)", async () => {
    // The OpenAI chat edge passes a client's file part on: one it wrote held_by into
    // (with x-ai-gateway-fallback: false) must not pick its backend past balancing.
    const providers = backends();
    const router = new FailoverRouter({ config: () => balanced, providers });
    for (let i = 0; i < 2; i++) {
      const request = heldFileRequest('b');
      const [message] = request.body.messages as { content: { file?: object }[] }[];
      message.content[0].file = {
        file_data: 'data:application/pdf;base64,JVBERg==',
        held_by: { route: 'r', backend: 'b' },
      };
      await router.route(request, signal());
    }
    assert.deepEqual(new Set(providers.called), new Set(['a', 'b']));
  });

  it('reads held_by only on calls the edge narrowed to fallback: false', async () => {
    const providers = backends();
    const router = new FailoverRouter({
      config: () => balanced,
      providers,
    });
    for (let i = 0; i < 2; i++) await router.route(heldFileRequest('b', false), signal());
    assert.deepEqual(new Set(providers.called), new Set(['a', 'b']));
  });
});
