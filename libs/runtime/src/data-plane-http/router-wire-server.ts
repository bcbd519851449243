import type { FastifyInstance } from 'fastify';
import {
  decodeRouteRequest,
  WIRE_JSON,
  WIRE_PATHS,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { asDataPlaneError, writeAnswer, writeWireError } from './answer-writer';
import { abortOnHangUp } from './wire-server';

/** Serves a router (the failover loop) to ingresses over the wire format. */
export function registerRouterWire(fastify: FastifyInstance, router: RouterPort): void {
  fastify.post(WIRE_PATHS.route, async (request, reply) => {
    reply.hijack();
    const response = reply.raw;
    const signal = abortOnHangUp(reply);
    try {
      const gatewayRequest = decodeRouteRequest(request.body);
      const answer = await router.route(gatewayRequest, signal);
      await writeAnswer(response, answer, { signal });
    } catch (error) {
      if (!signal.aborted) writeWireError(response, asDataPlaneError(error));
    }
  });
  registerHealth(fastify);
}

/** Answers the peer's readiness probe: the service is up and speaks this version. */
export function registerHealth(fastify: FastifyInstance): void {
  fastify.get(WIRE_PATHS.health, (_request, reply) => {
    void reply
      .header('content-type', WIRE_JSON)
      .header(WIRE_VERSION_HEADER, WIRE_VERSION)
      .send('{"status":"ok"}');
  });
}
