// A client that uploads a file to Google's Files API with `Expect: 100-continue` (curl does
// for any body past 1 MiB) is told to continue for a file within the file limit, which is
// far past the JSON body limit: the edge's 413 before 100 Continue reads the route's own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import Fastify, { type FastifyReply } from 'fastify';
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { edgeRefusalHook, holdContinues } from '@aigw/runtime';
import { MemoryHeldObjectStore } from '../../batches/held-objects';
import { registerGeminiFileRoutes } from './gemini-file-routes';
import { GeminiFiles, type GeminiFileCallers, type GeminiFileCalls } from './gemini-files';

const JSON_LIMIT = 1024;
const FILE_LIMIT = 64 * JSON_LIMIT;

const filter: ExceptionFilter = {
  catch(exception: unknown, host: ArgumentsHost) {
    const error = exception as DataPlaneError;
    void host.switchToHttp().getResponse<FastifyReply>().code(error.httpStatus).send();
  },
};

/** The first status line the edge answers `head` with (the client sends no body). */
function firstAnswer(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk.toString('latin1').split('\r\n', 1)[0]);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

async function edge(maxFileBytes: number) {
  const fastify = Fastify({ bodyLimit: JSON_LIMIT });
  holdContinues(fastify.server);
  fastify.addHook('onRequest', edgeRefusalHook(filter, JSON_LIMIT));
  const files = new GeminiFiles({
    config: () => {
      throw new Error('not read before the body');
    },
    upstream: {} as GeminiFileCalls,
    store: new MemoryHeldObjectStore({ maxEntries: 1, maxBytes: 1 }),
    ttlMs: 60_000,
    maxFileBytes,
  });
  registerGeminiFileRoutes(fastify, {} as GeminiFileCallers, files);
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  return { fastify, port: (fastify.server.address() as { port: number }).port };
}

function uploadHead(length: number): string {
  return (
    `POST /upload/v1beta/files?upload_id=x HTTP/1.1\r\nhost: gateway\r\n` +
    `x-goog-upload-command: upload, finalize\r\nx-goog-upload-offset: 0\r\n` +
    `expect: 100-continue\r\ncontent-length: ${length}\r\n\r\n`
  );
}

describe('a Gemini file upload that expects 100-continue', () => {
  it('is told to continue within the file limit, past the JSON body limit', async () => {
    const { fastify, port } = await edge(FILE_LIMIT);
    try {
      assert.equal(await firstAnswer(port, uploadHead(8 * JSON_LIMIT)), 'HTTP/1.1 100 Continue');
    } finally {
      await fastify.close();
    }
  });

  it('is refused 413 before 100 Continue past the file limit and its framing', async () => {
    const { fastify, port } = await edge(FILE_LIMIT);
    try {
      const answer = await firstAnswer(port, uploadHead(FILE_LIMIT + 1024 * 1024));
      assert.match(answer, /^HTTP\/1\.1 413 /);
    } finally {
      await fastify.close();
    }
  });
});
