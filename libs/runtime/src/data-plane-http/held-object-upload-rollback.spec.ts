// A peer rolled back under a hop: it served the upload route, then an older one without it
// takes its place (same address). The hop's next probe, once the last one's minute is up,
// must find the route gone and send uploads whole, as base64, on the held-object route; and
// find it again when the newer peer returns.
import { after, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { HELD_OBJECT_UPLOAD_WIRE_PATH } from './held-object-call';
import { HttpHeldObjectClient, registerHeldObjectServer } from './held-object-wire';
import { InternalToken } from './internal-auth';
import { createWireServer } from './wire-server';

const TOKEN = 'internal-token';
const backend = { backendName: 'b', provider: 'openai', requestTimeoutMs: 5_000 };
const CHUNK = 64 * 1024;

async function* chunks(count: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(CHUNK, i % 256);
}

/** Uploads `count` chunks through a hop's client to the peer at `port`. */
function uploader(port: number) {
  const client = new HttpHeldObjectClient(
    new URL(`http://127.0.0.1:${port}`),
    new InternalToken(TOKEN),
  );
  return (count: number) =>
    client.upload(backend, '/files', {
      contentType: 'multipart/form-data; boundary=x',
      data: chunks(count),
    });
}

/** What a peer was asked: probes, streamed uploads, whole calls (their base64's bytes). */
interface PeerLog {
  probes: number;
  streamed: number[];
  whole: number[];
}

/** A provider-adapter at `port` (0: any), with the upload route only when `streams`. */
async function peer(port: number, streams: boolean) {
  const log: PeerLog = { probes: 0, streamed: [], whole: [] };
  const server = createWireServer({
    maxBodyBytes: 1024 * 1024,
    auth: { token: new InternalToken(TOKEN), onRefused: () => undefined },
  });
  server.fastify.addHook('onRequest', async (request) => {
    if (request.url === HELD_OBJECT_UPLOAD_WIRE_PATH && request.headers['x-aigw-held-probe']) {
      log.probes++;
    }
  });
  const answer = { status: 200, contentType: 'application/json', body: Buffer.from('{"id":"f"}') };
  registerHeldObjectServer(
    server.fastify,
    (call) => ({ ...call, model: '', requestTimeoutMs: 5_000 }) as never,
    {
      send: async (_target, _method, _path, body) => {
        log.whole.push(body?.data.length ?? 0);
        return answer;
      },
      open: () => Promise.reject(new Error('unused')),
      ...(streams
        ? {
            upload: async (_target, _path, body) => {
              let bytes = 0;
              for await (const chunk of body.data) bytes += chunk.length;
              log.streamed.push(bytes);
              return answer;
            },
          }
        : {}),
    },
  );
  const bound = await server.served.listen(port, '127.0.0.1');
  return {
    port: bound,
    log,
    close: async () => {
      await server.served.close();
      // The client's idle keep-alive sockets see the close before the next call (a call on
      // one the peer just closed fails as unreachable, which is not what is tested here).
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}

describe('the upload-route probe when a peer is rolled back, then forward', () => {
  let current: Awaited<ReturnType<typeof peer>> | undefined;
  after(async () => {
    mock.timers.reset();
    await current?.close();
  });

  it('streams to the peer with the route, then sends whole and asks again once it is gone', async () => {
    const newer = await peer(0, true);
    current = newer;
    const upload = uploader(newer.port);

    assert.equal((await upload(4)).body.toString(), '{"id":"f"}');
    assert.deepEqual(newer.log, { probes: 1, streamed: [4 * CHUNK], whole: [] });

    await newer.close();
    const older = await peer(newer.port, false);
    current = older;
    // The probe's answer is kept a minute: past it, the hop asks the older peer again.
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 61_000 });

    const answer = await upload(3);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), '{"id":"f"}');
    assert.deepEqual(older.log, { probes: 1, streamed: [], whole: [3 * CHUNK] });
    // Within that minute, the probe's "no" stands: no further probe, still sent whole.
    await upload(2);
    assert.deepEqual(older.log, { probes: 1, streamed: [], whole: [3 * CHUNK, 2 * CHUNK] });

    await older.close();
    const again = await peer(newer.port, true);
    current = again;
    mock.timers.tick(61_000);

    await upload(5);
    assert.deepEqual(again.log, { probes: 1, streamed: [5 * CHUNK], whole: [] });
  });

  it('asks again at once when a streamed upload finds the route gone within the minute', async () => {
    mock.timers.reset();
    await current?.close();
    const newer = await peer(0, true);
    current = newer;
    const upload = uploader(newer.port);
    await upload(1);
    assert.deepEqual(newer.log, { probes: 1, streamed: [CHUNK], whole: [] });

    await newer.close();
    const older = await peer(newer.port, false);
    current = older;
    // Still within the probe's minute: this upload streams to a route that is gone, and its
    // body cannot be sent again, so it fails as the peer's unknown URL...
    await assert.rejects(
      upload(2),
      (error) => error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UnknownUrl,
    );
    // ...and the next one asks first, finds no route, and goes whole.
    assert.equal((await upload(3)).status, 200);
    assert.deepEqual(older.log, { probes: 1, streamed: [], whole: [3 * CHUNK] });
  });
});
