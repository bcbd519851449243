import type {
  GatewayAnswer,
  JsonObject,
  ProviderCall,
  ProviderPort,
  StreamAnswer,
} from '@aigw/contracts/data-plane';
import type { BackendLoad, CallInFlight } from './domain/backend-load';

/**
 * The providers, each call counted in `load` against its backend: in flight from the call
 * until its answer is over (a stream's last event, or the stream given up), and its latency
 * measured to the JSON answer or to a stream's first event. Failed calls are not measured:
 * a backend failing fast must not look fast (failures cool it down instead).
 */
export function measuredProviders(providers: ProviderPort, load: BackendLoad): ProviderPort {
  return {
    async invoke(call: ProviderCall): Promise<GatewayAnswer> {
      const measured = load.start(call.target.backendName, call.request.stream ? 'stream' : 'json');
      let answer: GatewayAnswer;
      try {
        answer = await providers.invoke(call);
      } catch (error) {
        measured.ended();
        throw error;
      }
      if (answer.kind === 'json') {
        measured.answered('json');
        measured.ended();
        return answer;
      }
      // Whoever drops the stream unread (the client gone) aborts the call's signal. The
      // listener goes when the stream ends: a signal may outlive many calls (a dedup leader's
      // never aborts), and each listener left would hold its call.
      const { signal } = call;
      const ended = (): void => {
        signal.removeEventListener('abort', ended);
        measured.ended();
      };
      signal.addEventListener('abort', ended, { once: true });
      return {
        ...answer,
        events: measuredEvents(answer, { answered: () => measured.answered('stream'), ended }),
      };
    },
  };
}

function measuredEvents(answer: StreamAnswer, measured: CallInFlight): AsyncIterable<JsonObject> {
  return {
    [Symbol.asyncIterator]() {
      const events = answer.events[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const next = await events.next();
            if (next.done) measured.ended();
            else measured.answered();
            return next;
          } catch (error) {
            measured.ended();
            throw error;
          }
        },
        async return(value?: unknown) {
          measured.ended();
          return events.return
            ? await events.return(value)
            : { done: true as const, value: undefined };
        },
      };
    },
  };
}
