import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { closingKeepAlive } from './closing-keep-alive';

/** One keep-alive GET, its status, `connection` header and whole body. */
function get(port: number, path: string) {
  return new Promise<{ status?: number; connection?: string; body: string }>((done, fail) => {
    const call = request(
      { host: '127.0.0.1', port, path, headers: { connection: 'keep-alive' } },
      (answer: IncomingMessage) => {
        let body = '';
        answer.setEncoding('utf8');
        answer.on('data', (text: string) => (body += text));
        answer.on('end', () =>
          done({ status: answer.statusCode, connection: answer.headers.connection, body }),
        );
      },
    );
    call.on('error', fail);
    call.end();
  });
}

/**
 * A listening app with `/slow`, which answers `{ok: slow}` only once `finish` is called
 * (`inFlight` resolves when it has started), and `/fast`, which answers `{ok: fast}`.
 */
async function slowAndFastApp(slow: unknown, fast: unknown) {
  const app = Fastify({ return503OnClosing: false });
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  app.get('/slow', async () => {
    started();
    await released;
    return { ok: slow };
  });
  app.get('/fast', async () => ({ ok: fast }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, inFlight, finish: release };
}

describe('an app that closes with answers in flight', () => {
  it('ends their keep-alive, so the client sends no call on a connection being closed', async () => {
    const { app, inFlight, finish } = await slowAndFastApp(true, true);
    const closing = closingKeepAlive(app.server);
    const { port } = app.server.address() as AddressInfo;
    // Before any stop, answers keep their connection alive.
    assert.equal((await get(port, '/fast')).connection, 'keep-alive');
    const answered = get(port, '/slow');
    await inFlight;
    closing();
    const closed = app.close();
    finish();
    assert.deepEqual(await answered, { status: 200, connection: 'close', body: '{"ok":true}' });
    await closed;
  });

  it('keeps a connection open for the call pipelined on it during the stop, and answers it', async () => {
    const { app, inFlight, finish } = await slowAndFastApp('slow', 'fast');
    const closing = closingKeepAlive(app.server);
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    let heard = '';
    socket.on('data', (chunk: Buffer) => (heard += chunk.toString()));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const call = (path: string) =>
      `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n`;
    socket.write(call('/slow'));
    await inFlight;
    closing();
    const closed = app.close();
    socket.write(call('/fast'));
    // The pipelined call has been read before the first answer goes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    finish();
    await ended;
    await closed;
    const heads = heard.split('HTTP/1.1 ').slice(1);
    assert.equal(heads.length, 2, heard);
    assert.match(heads[0], /^200 [\s\S]*\{"ok":"slow"\}$/);
    assert.match(heads[1], /^200 [\s\S]*connection: close[\s\S]*\{"ok":"fast"\}$/i);
  });
});
