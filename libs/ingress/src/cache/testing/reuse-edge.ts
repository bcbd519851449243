import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import type { GatewayRequest, JsonObject } from '@aigw/contracts/data-plane';
import type { EdgeExchange } from '../../http/edge-exchange';
import { OPENAI_DIALECT } from '../../http/openai-dialect';

/**
 * For the reuse specs: what their fake pipeline's `prepare` makes of a chat body, a plain
 * gpt-4o chat of caller `u` (a stream when the body asks for one).
 */
export function reuseChatRequest(body: JsonObject, requestId: string): GatewayRequest {
  return {
    requestId,
    operation: 'chat',
    requestedModel: 'gpt-4o',
    stream: body.stream === true,
    clientWantsStreamUsage: false,
    body,
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  } satisfies GatewayRequest;
}

/** For the reuse specs: `exchange` serving OpenAI chat completions on a loopback port. */
export async function listenReuseEdge(
  exchange: EdgeExchange,
): Promise<{ readonly app: FastifyInstance; readonly url: string }> {
  const app = Fastify();
  app.post('/v1/chat/completions', (request, reply) =>
    exchange.serve(
      { endpoint: GatewayEndpoint.ChatCompletions, operation: 'chat' },
      request,
      reply,
      OPENAI_DIALECT,
    ),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}/v1/chat/completions` };
}
