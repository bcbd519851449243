import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import Fastify, { type FastifyReply } from 'fastify';
import { type DataPlaneError } from '@aigw/contracts/data-plane';
import { edgeRefusalHook, holdContinues } from './edge-refusals';

const LIMIT = 1024;

/** Answers like the API's filter would: the error's status and message. */
const filter: ExceptionFilter = {
  catch(exception: unknown, host: ArgumentsHost) {
    const error = exception as DataPlaneError;
    void host
      .switchToHttp()
      .getResponse<FastifyReply>()
      .code(error.httpStatus)
      .send({ error: { message: error.message } });
  },
};

/** Writes `head` on a fresh connection, then `body` once told 100 Continue; all it read. */
function exchange(port: number, head: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && !socket.writableEnded) {
        socket.end(body);
      }
    });
    socket.on('close', () => resolve(received));
  });
}

async function edge() {
  const fastify = Fastify({ bodyLimit: LIMIT });
  holdContinues(fastify.server);
  fastify.addHook('onRequest', edgeRefusalHook(filter, LIMIT));
  fastify.post('/v1/chat/completions', (request) => ({ got: (request.body as string).length }));
  fastify.post('/v1/files', { bodyLimit: 4 * LIMIT }, (request) => ({
    got: (request.body as string).length,
  }));
  fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, (_r, body, done) =>
    done(null, body),
  );
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  return { fastify, port: (fastify.server.address() as { port: number }).port };
}

function post(path: string, length: number): string {
  return (
    `POST ${path} HTTP/1.1\r\nhost: gateway\r\ncontent-type: text/plain\r\n` +
    `expect: 100-continue\r\ncontent-length: ${length}\r\nconnection: close\r\n\r\n`
  );
}

describe('a request that expects 100-continue', () => {
  it('is answered 413 before 100 Continue when its declared body is over the limit', async () => {
    const { fastify, port } = await edge();
    try {
      const answer = await exchange(
        port,
        post('/v1/chat/completions', LIMIT + 1),
        'x'.repeat(LIMIT + 1),
      );
      assert.match(answer, /^HTTP\/1\.1 413 /, answer);
      assert.match(answer, /\r\nconnection: close/i);
      assert.match(answer, /larger than this gateway accepts/);
    } finally {
      await fastify.close();
    }
  });

  it("is told 100 Continue and served when its body is within the limit, the route's own too", async () => {
    const { fastify, port } = await edge();
    try {
      const small = await exchange(port, post('/v1/chat/completions', LIMIT), 'x'.repeat(LIMIT));
      assert.match(small, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, small);
      assert.match(small, /\{"got":1024\}/);

      const upload = await exchange(port, post('/v1/files', 2 * LIMIT), 'x'.repeat(2 * LIMIT));
      assert.match(upload, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, upload);
    } finally {
      await fastify.close();
    }
  });
});
