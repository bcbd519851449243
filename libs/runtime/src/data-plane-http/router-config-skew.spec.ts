// In the split deployment each service reloads the config on its own: a ConfigMap edit
// reaches the ingress and router pods up to a minute apart. A model the ingress serves and
// the router does not yet is the gateway's own passing state, not a model that does not
// exist: the client gets a 503 it may retry, never the 404 SDKs raise at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  decodeRouteRequest,
  modelNotServed,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { HttpRouterClient } from './http-router-client';
import { RealtimeRouterClient, serveRealtimeWire } from './realtime-wire';
import { registerRouterWire } from './router-wire-server';
import { createWireServer } from './wire-server';
import { request, servedBy, usage } from '../testing/wire-call-fixtures';

/** The router's config: only these models. */
const ROUTER_SERVES = new Set(['gpt-4']);
/** The ingress's config, reloaded first: it serves a model just added too. */
const INGRESS_SERVES = new Set(['gpt-4', 'just-added']);

describe('ingress and router on different configs', () => {
  let served: ReturnType<typeof createWireServer>['served'];
  let client: HttpRouterClient;
  const skews: string[] = [];

  before(async () => {
    const router: RouterPort = {
      listModels: () => [...ROUTER_SERVES],
      route: async (req) => {
        if (!ROUTER_SERVES.has(req.requestedModel)) throw modelNotServed(req.requestedModel);
        return { kind: 'json', status: 200, body: { model: req.requestedModel }, usage, servedBy };
      },
    };
    const wire = createWireServer({ maxBodyBytes: 1024 * 1024 });
    served = wire.served;
    registerRouterWire(wire.fastify, router);
    const port = await served.listen(0, '127.0.0.1');
    client = new HttpRouterClient({
      url: new URL(`http://127.0.0.1:${port}`),
      listModels: () => [...INGRESS_SERVES],
      configSkew: {
        serves: (model) => INGRESS_SERVES.has(model),
        onConfigSkew: (model) => skews.push(model),
      },
    });
  });
  after(async () => {
    await client.close();
    await served.close();
  });

  for (const stream of [false, true]) {
    it(`a model the router does not serve yet is a 503 with Retry-After (stream: ${stream})`, async () => {
      skews.length = 0;
      await assert.rejects(
        client.route(
          request({ requestedModel: 'just-added', stream }),
          new AbortController().signal,
        ),
        (error: unknown) => {
          assert.ok(error instanceof DataPlaneError);
          assert.equal(error.code, DataPlaneErrorCode.NoBackendAvailable);
          assert.equal(error.httpStatus, 503);
          assert.ok((error.retryAfterMs ?? 0) > 0, `retryAfterMs ${error.retryAfterMs}`);
          assert.match(error.message, /"just-added"/);
          assert.match(error.message, /configuration/);
          return true;
        },
      );
      assert.deepEqual(skews, ['just-added']);
    });
  }

  it('a model neither serves is still the 404 of a model not served', async () => {
    skews.length = 0;
    await assert.rejects(
      client.route(request({ requestedModel: 'nowhere' }), new AbortController().signal),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.ModelNotFound &&
        error.httpStatus === 404 &&
        error.param === 'model',
    );
    assert.deepEqual(skews, []);
  });

  it('a model both serve is answered', async () => {
    const answer = await client.route(request(), new AbortController().signal);
    assert.equal(answer.kind, 'json');
  });
});

describe('a Realtime session for a model the router does not serve yet', () => {
  it('is refused with a 503 and Retry-After', { timeout: 10_000 }, async () => {
    const server = createServer((_, res) => res.end());
    const hops = serveRealtimeWire(server, async (message) => {
      const { requestedModel } = decodeRouteRequest(message);
      throw modelNotServed(requestedModel);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const skews: string[] = [];
    const client = new RealtimeRouterClient(new URL(`http://127.0.0.1:${port}`), undefined, 5_000, {
      serves: (model) => INGRESS_SERVES.has(model),
      onConfigSkew: (model) => skews.push(model),
    });
    const listener = { frame: () => undefined, closed: () => undefined };
    const connect = (model: string) =>
      client.connectRealtime(
        request({ requestedModel: model, operation: 'realtime' }),
        listener,
        new AbortController().signal,
      );
    try {
      await assert.rejects(connect('just-added'), (error: unknown) => {
        assert.ok(error instanceof DataPlaneError);
        assert.equal(error.code, DataPlaneErrorCode.NoBackendAvailable);
        assert.ok((error.retryAfterMs ?? 0) > 0);
        return true;
      });
      assert.deepEqual(skews, ['just-added']);
      await assert.rejects(
        connect('nowhere'),
        (error: unknown) =>
          error instanceof DataPlaneError && error.code === DataPlaneErrorCode.ModelNotFound,
      );
    } finally {
      hops.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
