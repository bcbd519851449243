import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { sendOpenAiError } from '../http/openai-errors';

/**
 * The Files and Batch APIs' paths in an edge built without them: an OpenAI-style error
 * that says so, not a 404 that reads as a wrong base URL.
 */
export function registerUnservedFilesAndBatches(fastify: FastifyInstance, prefix: string): void {
  const unserved = (request: FastifyRequest, reply: FastifyReply) =>
    sendOpenAiError(
      reply,
      new DataPlaneError(
        DataPlaneErrorCode.UnknownUrl,
        'This gateway does not serve the Files and Batch APIs.',
      ),
      request.id,
    );
  for (const path of ['/files', '/files/:id', '/files/:id/content', '/batches', '/batches/:id']) {
    fastify.get(prefix + path, unserved);
  }
  fastify.post(`${prefix}/files`, unserved);
  fastify.delete(`${prefix}/files/:id`, unserved);
  fastify.post(`${prefix}/batches`, unserved);
  fastify.post(`${prefix}/batches/:id/cancel`, unserved);
}
