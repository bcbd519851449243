import type {
  GatewayAnswer,
  JsonObject,
  ProviderCall,
  ProviderPort,
  StreamAnswer,
} from '@aigw/contracts/data-plane';
import { withoutBackendIdentity } from './domain/hidden-backend-identity';

/**
 * The providers as the router's clients may see them: every error of a call, thrown at
 * once or mid-stream, in-process or from a provider-adapter across the wire, names the
 * model the client asked for and none of the backend's account, project or host
 * (`modelNameOverride` promises the client never learns what served it).
 */
export function identityHidingProviders(providers: ProviderPort): ProviderPort {
  return {
    async invoke(call: ProviderCall): Promise<GatewayAnswer> {
      let answer: GatewayAnswer;
      try {
        answer = await providers.invoke(call);
      } catch (error) {
        throw withoutBackendIdentity(error, call);
      }
      return answer.kind === 'json' ? answer : { ...answer, events: hidingEvents(answer, call) };
    },
  };
}

/**
 * The stream's events, its error without the backend's identity. A plain iterator, not a
 * generator: a return() while a next() waits on a stalled backend must not queue behind it.
 */
function hidingEvents(answer: StreamAnswer, call: ProviderCall): AsyncIterable<JsonObject> {
  return {
    [Symbol.asyncIterator]() {
      const events = answer.events[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            return await events.next();
          } catch (error) {
            throw withoutBackendIdentity(error, call);
          }
        },
        async return(value?: unknown) {
          return events.return
            ? await events.return(value)
            : { done: true as const, value: undefined };
        },
      };
    },
  };
}
