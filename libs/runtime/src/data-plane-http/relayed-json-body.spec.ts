// A JSON answer's body crosses the router as the text the provider-adapter wrote, unless the
// router reads or changes it; peers of an older build (no marks) are read as before.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  WIRE_JSON,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { HttpProviderClient } from './http-provider-client';
import { HttpRouterClient } from './http-router-client';
import { registerProviderWire } from './provider-wire-server';
import { BODY_HEADER, untouchedBodyText } from './relayed-json-body';
import { registerRouterWire } from './router-wire-server';
import { createWireServer } from './wire-server';
import { providerCall, request, servedBy, usage } from '../testing/wire-call-fixtures';

const jsonAnswer = (body: JsonObject, mediaType?: string): JsonAnswer => ({
  kind: 'json',
  status: 200,
  body,
  usage,
  servedBy,
  ...(mediaType === undefined ? {} : { mediaType }),
});

async function listening(server: Server): Promise<URL> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

describe('JSON answers relayed through the router', () => {
  let backendBody: () => JsonObject;
  let mediaType: string | undefined;
  /** What the router does with the adapter's answer, as the failover router does. */
  let inRouter: (answer: JsonAnswer, req: GatewayRequest) => void;
  const seenInRouter: { text?: string; after?: string }[] = [];
  let adapter: ReturnType<typeof createWireServer>;
  let router: ReturnType<typeof createWireServer>;
  let providers: HttpProviderClient;
  let ingress: HttpRouterClient;

  before(async () => {
    adapter = createWireServer({ maxBodyBytes: 1024 * 1024 });
    registerProviderWire(
      adapter.fastify,
      { invoke: async () => jsonAnswer(backendBody(), mediaType) },
      (target) => ({ ...target, requestTimeoutMs: 5_000, firstByteTimeoutMs: 5_000 }),
    );
    const adapterPort = await adapter.served.listen(0, '127.0.0.1');
    providers = new HttpProviderClient({ url: new URL(`http://127.0.0.1:${adapterPort}`) });
    const routerPort: RouterPort = {
      listModels: () => [],
      route: async (req, signal): Promise<GatewayAnswer> => {
        const answer = await providers.invoke(providerCall(req, signal));
        assert.equal(answer.kind, 'json');
        if (answer.kind !== 'json') return answer;
        const seen: { text?: string; after?: string } = { text: untouchedBodyText(answer.body) };
        inRouter(answer, req);
        seen.after = untouchedBodyText(answer.body);
        seenInRouter.push(seen);
        return { ...answer, servedBy: { ...answer.servedBy, attempts: 1 } };
      },
    };
    router = createWireServer({ maxBodyBytes: 1024 * 1024 });
    registerRouterWire(router.fastify, routerPort);
    const routerPortNumber = await router.served.listen(0, '127.0.0.1');
    ingress = new HttpRouterClient({
      url: new URL(`http://127.0.0.1:${routerPortNumber}`),
      listModels: () => [],
    });
  });
  after(async () => {
    await ingress.close();
    await providers.close();
    await router.served.close();
    await adapter.served.close();
  });

  const route = async (req = request()): Promise<JsonAnswer> => {
    seenInRouter.length = 0;
    const answer = await ingress.route(req, new AbortController().signal);
    assert.equal(answer.kind, 'json');
    return answer;
  };

  it('passes a body the router only names for the requested model on as its text', async () => {
    backendBody = () => ({ id: 'x', model: 'upstream-model', choices: [{ index: 0 }] });
    mediaType = undefined;
    inRouter = (answer, req) => (answer.body.model = req.requestedModel);
    const answer = await route();
    assert.deepEqual(seenInRouter, [
      {
        text: '{"id":"x","model":"gpt-4","choices":[{"index":0}]}',
        after: '{"id":"x","model":"gpt-4","choices":[{"index":0}]}',
      },
    ]);
    // The edge gets a parsed body, with the envelope the router wrote.
    assert.equal(untouchedBodyText(answer.body), undefined);
    assert.deepEqual(answer.body, { id: 'x', model: 'gpt-4', choices: [{ index: 0 }] });
    assert.deepEqual(answer.usage, usage);
    assert.deepEqual(answer.servedBy, { ...servedBy, attempts: 1 });
  });

  it('keeps the text of a body named for a model whose name needs escaping in a header', async () => {
    backendBody = () => ({ id: 'e', model: 'upstream-model' });
    inRouter = (answer, req) => (answer.body.model = req.requestedModel);
    const answer = await route(request({ requestedModel: 'mödel;v2 ü' }));
    assert.deepEqual(seenInRouter, [
      { text: '{"id":"e","model":"mödel;v2 ü"}', after: '{"id":"e","model":"mödel;v2 ü"}' },
    ]);
    assert.deepEqual(answer.body, { id: 'e', model: 'mödel;v2 ü' });
  });

  it('tells the model it names without parsing, and parses the body once it is read', async () => {
    backendBody = () => ({ id: 'y', model: 'upstream-model' });
    const read: unknown[] = [];
    inRouter = (answer) => {
      read.push(answer.body.model);
      assert.ok(untouchedBodyText(answer.body), 'reading the model left the text as it was');
      read.push(answer.body.id);
    };
    const answer = await route();
    assert.deepEqual(read, ['gpt-4', 'y']);
    assert.deepEqual(seenInRouter, [{ text: '{"id":"y","model":"gpt-4"}', after: undefined }]);
    assert.deepEqual(answer.body, { id: 'y', model: 'gpt-4' });
  });

  it('writes a body the router changed from the changed object', async () => {
    backendBody = () => ({ id: 'z', model: 'upstream-model', n: 1 });
    inRouter = (answer) => {
      answer.body.model = 'renamed';
      answer.body.extra = true;
    };
    const answer = await route();
    assert.equal(seenInRouter[0]?.after, undefined);
    assert.deepEqual(answer.body, { id: 'z', model: 'renamed', n: 1, extra: true });
  });

  it('leaves alone a body that names no model where the operation does not (embeddings)', async () => {
    backendBody = () => ({ object: 'list', data: [{ embedding: [0.5] }] });
    inRouter = (answer, req) => {
      // What the failover router does for operations other than chat and completions.
      if (answer.body.model !== undefined) answer.body.model = req.requestedModel;
    };
    const answer = await route(request({ operation: 'embeddings' }));
    assert.deepEqual(answer.body, { object: 'list', data: [{ embedding: [0.5] }] });
  });

  it('keeps a media type and a body with a __proto__ key as they were', async () => {
    backendBody = () => JSON.parse('{"text":"hello","__proto__":{"polluted":1}}') as JsonObject;
    mediaType = 'text/plain';
    inRouter = (answer) => void answer.body.text; // parsed in the router
    const answer = await route(request({ operation: 'transcriptions' }));
    mediaType = undefined;
    assert.equal(answer.mediaType, 'text/plain');
    assert.equal(answer.body.text, 'hello');
    assert.ok(Object.hasOwn(answer.body, '__proto__'), 'the key stayed an own key');
    assert.equal((answer.body as { polluted?: unknown }).polluted, undefined);
  });
});

describe('JSON answers from a peer of another build', () => {
  const peers: Server[] = [];
  after(() => peers.forEach((peer) => peer.close()));

  async function adapterAnswering(message: string, headers: Record<string, string> = {}) {
    const peer = createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': WIRE_JSON,
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        ...headers,
      });
      res.end(message);
    });
    peers.push(peer);
    const client = new HttpProviderClient({ url: await listening(peer) });
    const answer = await client.invoke(providerCall(request(), new AbortController().signal));
    await client.close();
    assert.equal(answer.kind, 'json');
    return answer;
  }

  it('reads an answer without marks (body first, model not named) whole', async () => {
    const answer = await adapterAnswering(
      JSON.stringify({
        status: 200,
        body: { id: 'old', model: 'upstream-model' },
        usage,
        servedBy,
      }),
    );
    assert.equal(untouchedBodyText(answer.body), undefined);
    assert.deepEqual(answer.body, { id: 'old', model: 'upstream-model' });
    assert.deepEqual(answer.servedBy, servedBy);
  });

  it('reads an answer whole when its mark does not point at the body', async () => {
    const message = JSON.stringify({ status: 200, servedBy, usage, body: { id: 'w' } });
    const answer = await adapterAnswering(message, { [BODY_HEADER]: '3' });
    assert.equal(untouchedBodyText(answer.body), undefined);
    assert.deepEqual(answer.body, { id: 'w' });
  });

  it('takes a body whose model mark differs from what the router names as one to parse', async () => {
    const message = JSON.stringify({ status: 200, servedBy, usage, body: { model: 'other' } });
    const answer = await adapterAnswering(message, {
      [BODY_HEADER]: `${message.indexOf(',"body":')};other`,
    });
    assert.equal(untouchedBodyText(answer.body), '{"model":"other"}');
    answer.body.model = 'gpt-4';
    assert.equal(untouchedBodyText(answer.body), undefined);
    assert.deepEqual(answer.body, { model: 'gpt-4' });
  });
});
