import type { FastifyInstance } from 'fastify';
import {
  decodeInvokeRequest,
  WIRE_PATHS,
  type ProviderPort,
  type UpstreamTarget,
  type WireTarget,
} from '@aigw/contracts/data-plane';
import { asDataPlaneError, writeAnswer, writeWireError } from './answer-writer';
import { registerHealth } from './router-wire-server';
import { abortOnHangUp } from './wire-server';

/** Builds the full target (base URL, credential, timeouts) from this service's own config. */
export type TargetResolver = (target: WireTarget) => UpstreamTarget;

/** Serves the provider adapters to routers over the wire format. */
export function registerProviderWire(
  fastify: FastifyInstance,
  providers: ProviderPort,
  resolveTarget: TargetResolver,
): void {
  fastify.post(WIRE_PATHS.invoke, async (request, reply) => {
    reply.hijack();
    const response = reply.raw;
    const signal = abortOnHangUp(reply);
    try {
      const message = decodeInvokeRequest(request.body);
      const target = resolveTarget(message.target);
      const answer = await providers.invoke({ request: message.request, target, signal });
      await writeAnswer(response, answer, {
        signal,
        stampModel: message.request.requestedModel,
      });
    } catch (error) {
      if (!signal.aborted) writeWireError(response, asDataPlaneError(error));
    }
  });
  registerHealth(fastify);
}
