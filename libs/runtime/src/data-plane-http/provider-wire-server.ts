import type { FastifyInstance } from 'fastify';
import {
  AttemptCommit,
  decodeInvokeRequest,
  nameForRequestedModel,
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
    let commit: AttemptCommit | undefined;
    try {
      const message = decodeInvokeRequest(request.body);
      const target = resolveTarget(message.target);
      // The router across the hop keeps a stream once its first event reaches it, and may
      // fail over from one that fails before: only a stream handed on settles the hold.
      if (message.request.stream) commit = new AttemptCommit();
      const answer = await providers.invoke({
        request: message.request,
        target,
        signal,
        streamCommit: commit,
      });
      if (answer.kind === 'json') nameForRequestedModel(answer.body, message.request);
      await writeAnswer(response, answer, {
        signal,
        stampModel: message.request.requestedModel,
        handedOn: commit && (() => commit!.decide(true)),
      });
    } catch (error) {
      if (!signal.aborted) writeWireError(response, asDataPlaneError(error));
    } finally {
      commit?.decide(false); // failed, or the router hung up, before any event: given up
    }
  });
  registerHealth(fastify);
}
