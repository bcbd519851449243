import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { bodyChunks } from './upstream-body';

const STREAM = 'data: {"n":1}\n\ndata: [DONE]\n\n';
let server: Server;
let base: string;
let connections = 0;
let unfinished: ServerResponse | undefined;
const agent = new Agent({ keepAliveTimeout: 10_000 });

before(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (req.url === '/whole') res.end(STREAM);
    else {
      res.write(STREAM); // the end marker, then the body is held open
      unfinished = res;
    }
  });
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  unfinished?.destroy();
  await agent.close();
  server.close();
});

/** Reads until the chunk holding `[DONE]`, then stops, as the OpenAI stream relay does. */
async function readUntilDone(path: string) {
  const response = await request(`${base}${path}`, { dispatcher: agent });
  let text = '';
  for await (const chunk of bodyChunks(response.body)) {
    text += chunk.toString();
    if (text.includes('[DONE]')) break;
  }
  return { body: response.body, text };
}

test('a body that has fully arrived is let go of without an error, and its connection kept', async () => {
  const first = await readUntilDone('/whole');
  await nextTurn();
  await nextTurn();
  assert.equal(first.text, STREAM);
  // A plain for-await would have destroyed it with an AbortError here.
  assert.equal(first.body.errored, null);
  assert.equal(first.body.readableEnded, true);
  const second = await readUntilDone('/whole');
  assert.equal(second.text, STREAM);
  assert.equal(connections, 1, 'the second call reused the first connection');
});

test('a body still arriving after the reader stopped is destroyed, aborting the call', async () => {
  const before = connections;
  const { body } = await readUntilDone('/held-open');
  await sleep(20);
  assert.equal(body.destroyed, true);
  assert.ok(unfinished, 'the server is holding the body open');
  if (!unfinished.closed) await once(unfinished, 'close');
  assert.equal(unfinished.closed, true, 'the held connection was dropped');
  const next = await readUntilDone('/whole');
  assert.equal(next.text, STREAM);
  // The held call went out on the idle connection of the test before; it is gone with it.
  assert.equal(connections, before + 1, 'a new connection for the call after the aborted one');
});

test('an error thrown by the reader lets go of the body too', async () => {
  const response = await request(`${base}/whole`, { dispatcher: agent });
  await assert.rejects(
    (async () => {
      for await (const chunk of bodyChunks(response.body)) {
        throw new Error(`refused ${chunk.length} bytes`);
      }
    })(),
    /refused/,
  );
  await nextTurn();
  await nextTurn();
  assert.ok(response.body.readableEnded || response.body.destroyed);
});
