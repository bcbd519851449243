// A rolling upgrade of the split deployment runs releases side by side: a newer ingress
// calls an older router (or a newer router an older provider-adapter). Where the older peer
// cannot take the call (a wire route it does not have, a wire message it cannot read), the
// caller must get a 5xx an SDK retries (the next try may reach an upgraded replica), naming
// the mismatch, never a 404 `unknown_url` or a 400 `invalid_request_error` that tells the
// client its own request is wrong.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  WIRE_PATHS,
  type GatewayRequest,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { HttpGeminiFileClient } from './gemini-file-wire';
import { HttpHeldObjectClient } from './held-object-wire';
import { RealtimeRouterClient } from './realtime-wire';
import { registerRouterWire } from './router-wire-server';
import { WireClient } from './wire-client';
import { createWireServer } from './wire-server';

const neverRouted: RouterPort = {
  route: () => Promise.reject(new Error('an unreadable call must not be routed')),
  listModels: () => [],
};

describe('a call an older peer cannot take', () => {
  let served: ReturnType<typeof createWireServer>['served'];
  let port: number;

  before(async () => {
    // The older router: its wire routes, without any added after it.
    const server = createWireServer({ maxBodyBytes: 1024 * 1024 });
    registerRouterWire(server.fastify, neverRouted);
    served = server.served;
    port = await served.listen(0, '127.0.0.1');
  });
  after(() => served.close());

  const router = () =>
    new WireClient({
      url: new URL(`http://127.0.0.1:${port}`),
      peer: 'router',
      unreachableCode: DataPlaneErrorCode.NoBackendAvailable,
    });

  async function refusal(call: () => Promise<unknown>): Promise<DataPlaneError> {
    const error = await call().then(
      () => assert.fail('the call was taken'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DataPlaneError, String(error));
    return error;
  }

  function assertReleaseMismatch(error: DataPlaneError): void {
    assert.equal(error.code, DataPlaneErrorCode.Internal, error.message);
    assert.equal(error.httpStatus, 500);
    assert.match(error.message, /router/);
    assert.match(error.message, /release/);
  }

  for (const stream of [false, true]) {
    it(`a request of an operation the peer does not know${stream ? ', streamed' : ''}`, async () => {
      const client = router();
      const body = {
        request: {
          requestId: 'r1',
          operation: 'an-operation-added-later',
          requestedModel: 'm',
          stream,
          clientWantsStreamUsage: false,
          body: {},
          caller: { userKey: 'u' },
          allowedModels: [],
          forwardHeaders: {},
        },
      };
      try {
        const error = await refusal(() =>
          client.call({
            path: WIRE_PATHS.route,
            body: JSON.stringify(body),
            signal: new AbortController().signal,
            stream,
            timeoutMs: 5_000,
            chunk: () => ({}),
          }),
        );
        assertReleaseMismatch(error);
        assert.match(error.message, /request\.operation/);
      } finally {
        await client.close();
      }
    });
  }

  it('a wire route the peer does not have (Gemini files)', async () => {
    const files = new HttpGeminiFileClient(new URL(`http://127.0.0.1:${port}`));
    const error = await refusal(() =>
      files.file(
        { backendName: 'g', provider: 'google-gemini', requestTimeoutMs: 5_000 },
        'GET',
        'files/abc',
      ),
    );
    assert.equal(error.code, DataPlaneErrorCode.Internal, error.message);
    assert.match(error.message, /\/wire\/gemini-file/);
    assert.match(error.message, /release/);
  });

  it('a wire route the peer does not have (files and batches)', async () => {
    const files = new HttpHeldObjectClient(new URL(`http://127.0.0.1:${port}`));
    const error = await refusal(() =>
      files.send(
        { backendName: 'o', provider: 'openai', requestTimeoutMs: 5_000 },
        'GET',
        '/files/file-abc',
      ),
    );
    assert.equal(error.code, DataPlaneErrorCode.Internal, error.message);
    assert.match(error.message, /\/wire\/held-object/);
    assert.match(error.message, /release/);
  });

  it('a wire route the peer does not have (a Realtime session)', async () => {
    const realtime = new RealtimeRouterClient(new URL(`http://127.0.0.1:${port}`));
    const request = { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest;
    const error = await refusal(() =>
      realtime.connectRealtime(
        request,
        { frame: () => undefined, closed: () => undefined },
        new AbortController().signal,
      ),
    );
    assertReleaseMismatch(error);
    assert.match(error.message, /\/wire\/realtime/);
  });
});
