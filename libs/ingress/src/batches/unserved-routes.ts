import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { sendOpenAiError } from '../http/openai-errors';
import { sendMessagesError } from '../anthropic/messages-errors';
import { DEPLOYMENT_BATCHES, deploymentRoute } from '../azure-edge/azure-paths';

/**
 * The Files and Batch APIs' paths in an edge built without them: an OpenAI-style error
 * that says so, not a 404 that reads as a wrong base URL.
 */
export function registerUnservedFilesAndBatches(fastify: FastifyInstance, prefix: string): void {
  for (const path of ['/files', '/files/:id', '/files/:id/content', '/batches', '/batches/:id']) {
    fastify.get(prefix + path, unserved);
  }
  fastify.post(`${prefix}/files`, unserved);
  fastify.delete(`${prefix}/files/:id`, unserved);
  fastify.post(`${prefix}/batches`, unserved);
  fastify.post(`${prefix}/batches/:id/cancel`, unserved);
  // Anthropic's Message Batches API, refused in Anthropic's shape.
  const messageBatches = `${prefix}/messages/batches`;
  for (const path of ['', '/:id', '/:id/results']) {
    fastify.get(messageBatches + path, unservedMessageBatches);
  }
  fastify.post(messageBatches, unservedMessageBatches);
  fastify.post(`${messageBatches}/:id/cancel`, unservedMessageBatches);
  fastify.delete(`${messageBatches}/:id`, unservedMessageBatches);
}

/** `POST /openai/deployments/{deployment}/batches` in an edge built without the Batch API. */
export function registerUnservedAzureDeploymentBatches(fastify: FastifyInstance): void {
  fastify.post(deploymentRoute(DEPLOYMENT_BATCHES), unserved);
}

function unservedMessageBatches(request: FastifyRequest, reply: FastifyReply): void {
  sendMessagesError(
    reply,
    new DataPlaneError(
      DataPlaneErrorCode.UnknownUrl,
      'This gateway does not serve the Message Batches API: send the requests one by one to /v1/messages.',
    ),
    request.id,
  );
}

function unserved(request: FastifyRequest, reply: FastifyReply): void {
  sendOpenAiError(
    reply,
    new DataPlaneError(
      DataPlaneErrorCode.UnknownUrl,
      'This gateway does not serve the Files and Batch APIs.',
    ),
    request.id,
  );
}
