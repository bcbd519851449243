import type { FastifyInstance } from 'fastify';
import {
  AttemptCommit,
  decodeInvokeRequest,
  FIRST_EVENT_MS_HEADER,
  nameForRequestedModel,
  WIRE_PATHS,
  type ProviderPort,
  type UpstreamTarget,
  type WireTarget,
} from '@aigw/contracts/data-plane';
import { asDataPlaneError, writeAnswer, writeWireError } from './answer-writer';
import { firstEventTimer, type FirstEventTimer } from './first-event-timer';
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
    const hangUp = abortOnHangUp(reply);
    let commit: AttemptCommit | undefined;
    let firstEvent: FirstEventTimer | undefined;
    try {
      const message = decodeInvokeRequest(request.body);
      const target = resolveTarget(message.target);
      // The router across the hop keeps a stream once its first event reaches it, and may
      // fail over from one that fails before: only a stream handed on settles the hold.
      if (message.request.stream) {
        commit = new AttemptCommit();
        const header = request.headers[FIRST_EVENT_MS_HEADER];
        firstEvent = firstEventTimer(header, target.backendName, hangUp);
      }
      const answer = await providers.invoke({
        request: message.request,
        target,
        signal: firstEvent?.signal ?? hangUp,
        streamCommit: commit,
      });
      if (answer.kind === 'json') nameForRequestedModel(answer.body, message.request);
      const timed = firstEvent && answer.kind === 'stream';
      await writeAnswer(
        response,
        timed ? { ...answer, events: firstEvent!.events(answer.events) } : answer,
        {
          signal: hangUp,
          stampModel: message.request.requestedModel,
          handedOn:
            commit &&
            (() => {
              firstEvent?.clear();
              commit!.decide(true);
            }),
        },
      );
    } catch (error) {
      if (!hangUp.aborted) {
        writeWireError(response, asDataPlaneError(firstEvent ? firstEvent.failure(error) : error));
      }
    } finally {
      firstEvent?.clear();
      commit?.decide(false); // failed, or the router hung up, before any event: given up
    }
  });
  registerHealth(fastify);
}
