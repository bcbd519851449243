import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { AnswerTooLargeError, dispatchBuffered } from './buffered-dispatch';

describe('dispatchBuffered', () => {
  let server: Server;
  let pool: Pool;
  let origin: string;
  let endlessClosed: Promise<void>;
  let markEndlessClosed: () => void;

  before(async () => {
    endlessClosed = new Promise((resolve) => (markEndlessClosed = resolve));
    server = createServer((request, response) => {
      if (request.url === '/small') {
        response.end('{"ok":true}');
      } else if (request.url === '/error') {
        response.writeHead(500).end('e'.repeat(10_000));
      } else {
        // An answer that never ends: 1 KB every tick until the client hangs up.
        response.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => response.write('x'.repeat(1024)), 1);
        response.on('close', () => {
          clearInterval(timer);
          markEndlessClosed();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = new Pool(origin);
  });
  after(async () => {
    await pool.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path: string) =>
    dispatchBuffered(pool, {
      origin,
      path,
      method: 'GET',
      headers: {},
      headersTimeoutMs: 5_000,
      bodyTimeoutMs: 5_000,
      signal: new AbortController().signal,
      maxErrorBodyBytes: 100,
      maxBodyBytes: 64 * 1024,
    });

  it('reads an answer within the limit whole', async () => {
    const response = await get('/small');
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, '{"ok":true}');
  });

  it('cuts an error body to its limit and still answers with it', async () => {
    const response = await get('/error');
    assert.equal(response.statusCode, 500);
    assert.equal(response.body, 'e'.repeat(100));
  });

  it('fails an answer past the limit and hangs up on it, however long it would go on', async () => {
    await assert.rejects(get('/endless'), (error: unknown) => {
      assert.ok(error instanceof AnswerTooLargeError);
      assert.equal(error.limitBytes, 64 * 1024);
      return true;
    });
    await endlessClosed;
  });
});
