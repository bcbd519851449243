// Two routes may each have a backend of the same name, with their own URL and key: a held
// object's call names its route across both hops (whole calls, opens and streamed
// uploads), so the router times it and the provider-adapter resolves it by (route, name).
// A call from an older ingress names no route and crosses as it always did.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { decodeHeldObjectCall, type HeldObjectWireCall } from './held-object-call';
import { decodeHeldObjectUpload } from './held-object-upload';
import {
  HttpHeldObjectClient,
  registerHeldObjectRelay,
  registerHeldObjectServer,
} from './held-object-wire';
import { InternalToken } from './internal-auth';
import { createWireServer } from './wire-server';

const TOKEN = 'internal-token';
const call = { backendName: 'openai', provider: 'openai', method: 'GET', path: '/files/f-1' };

describe('a held-object call naming its route', () => {
  it('reads the route when named, and leaves it out when not (an older ingress)', () => {
    assert.equal(decodeHeldObjectCall({ ...call, routeName: 'embed' }).routeName, 'embed');
    assert.ok(!('routeName' in decodeHeldObjectCall(call)));
    for (const routeName of ['', 7, null]) {
      assert.throws(() => decodeHeldObjectCall({ ...call, routeName }), /routeName/);
    }
    const header = Buffer.from(
      JSON.stringify({
        ...call,
        routeName: 'embed',
        method: 'POST',
        path: '/files',
        contentType: 'x',
      }),
    ).toString('base64url');
    assert.equal(decodeHeldObjectUpload(header).routeName, 'embed');
  });
});

describe('a held-object call across the hops (client → router → provider-adapter)', () => {
  /** What the adapter resolved each call by, and what the router timed it by. */
  const resolved: HeldObjectWireCall[] = [];
  const timed: [string, string | undefined][] = [];
  const servers: { close(): Promise<void> }[] = [];
  let client: HttpHeldObjectClient;

  before(async () => {
    const auth = { token: new InternalToken(TOKEN), onRefused: () => undefined };
    const adapter = createWireServer({ maxBodyBytes: 1024 * 1024, auth });
    const answer = { status: 200, contentType: 'application/json', body: Buffer.from('{}') };
    registerHeldObjectServer(
      adapter.fastify,
      (wire) => {
        resolved.push(wire);
        return { ...wire, model: '', requestTimeoutMs: 5_000 } as never;
      },
      {
        send: async () => answer,
        open: async () => ({ ...answer, body: Readable.from([answer.body]) }),
        upload: async (_target, _path, body) => {
          for await (const _part of body.data);
          return answer;
        },
      },
    );
    const adapterPort = await adapter.served.listen(0, '127.0.0.1');
    servers.push(adapter.served);
    const router = createWireServer({ maxBodyBytes: 1024 * 1024, auth });
    registerHeldObjectRelay(
      router.fastify,
      new HttpHeldObjectClient(
        new URL(`http://127.0.0.1:${adapterPort}`),
        new InternalToken(TOKEN),
      ),
      (name, routeName) => {
        timed.push([name, routeName]);
        return 5_000;
      },
    );
    const routerPort = await router.served.listen(0, '127.0.0.1');
    servers.push(router.served);
    client = new HttpHeldObjectClient(
      new URL(`http://127.0.0.1:${routerPort}`),
      new InternalToken(TOKEN),
    );
  });
  after(async () => {
    for (const server of servers.reverse()) await server.close();
  });

  const embed = {
    backendName: 'openai',
    routeName: 'embed',
    provider: 'openai',
    requestTimeoutMs: 5_000,
  };

  it('names the route on a whole call, an open and a streamed upload', async () => {
    resolved.length = 0;
    timed.length = 0;
    await client.send(embed, 'POST', '/batches/b-1/cancel');
    const opened = await client.open(embed, '/files/f-1/content');
    for await (const _part of opened.body);
    await client.upload(embed, '/files', {
      contentType: 'multipart/form-data; boundary=x',
      data: Readable.from([Buffer.from('--x--')]),
    });
    assert.deepEqual(
      resolved.map((wire) => [wire.path, wire.backendName, wire.routeName]),
      [
        ['/batches/b-1/cancel', 'openai', 'embed'],
        ['/files/f-1/content', 'openai', 'embed'],
        ['/files', 'openai', 'embed'],
      ],
    );
    assert.deepEqual(timed, [
      ['openai', 'embed'],
      ['openai', 'embed'],
      ['openai', 'embed'],
    ]);
  });

  it('names no route for a backend known by name alone (an older ingress)', async () => {
    resolved.length = 0;
    const { routeName: _routeName, ...byName } = embed;
    await client.send(byName, 'GET', '/files/f-1');
    assert.equal(resolved.length, 1);
    assert.ok(!('routeName' in resolved[0]), 'the call crosses as it did before routes');
  });
});
