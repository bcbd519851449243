import {
  DataPlaneError,
  type JsonObject,
  type ProviderCall,
  type StreamAnswer,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { servedByTarget } from './openai-wire';
import { estimatedUsage, OutputTally } from './tokenizer';
import { streamFailure, streamInterrupted } from './upstream-http';

/**
 * One provider's stream, event by event, into OpenAI chunks. It keeps the state a
 * provider's protocol needs (open content blocks, tool-call indexes, usage so far).
 */
export interface StreamTranslation<E> {
  /** The OpenAI chunks for one upstream event (often none); throws on an error event. */
  translate(event: E): readonly JsonObject[];
  /** True once the provider sent what marks a complete answer. */
  readonly finished: boolean;
  /** Usage the provider reported so far, if any. */
  reportedUsage(): TokenUsage | undefined;
  /** A usage-only chunk in this stream's id and model. */
  usageChunk(usage: TokenUsage): JsonObject;
}

/**
 * Relays a translated stream. A stream that ends without the provider's end marker is
 * StreamInterrupted, never a clean-looking truncated answer; usage settles in `finally`
 * (reported, else estimated from the text that went by), even when the client left.
 */
export function translatedStreamAnswer<E>(
  call: ProviderCall,
  upstream: AsyncIterable<E>,
  translation: StreamTranslation<E>,
): StreamAnswer {
  let settle!: (usage: TokenUsage) => void;
  const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
  return {
    kind: 'stream',
    status: 200,
    events: relay(call, upstream, translation, settle),
    usage,
    servedBy: servedByTarget(call),
  };
}

async function* relay<E>(
  call: ProviderCall,
  upstream: AsyncIterable<E>,
  translation: StreamTranslation<E>,
  settle: (usage: TokenUsage) => void,
): AsyncGenerator<JsonObject> {
  const { request, target } = call;
  const output = new OutputTally();
  const finalUsage = (): TokenUsage => {
    const reported = translation.reportedUsage();
    if (!reported) return estimatedUsage(request.body, output.tokens);
    if (translation.finished) return reported;
    // Cut short: the input count is the provider's, the output so far is our estimate.
    const outputTokens = Math.max(reported.outputTokens, output.tokens);
    return { ...reported, outputTokens, source: 'estimated' };
  };
  try {
    for await (const event of upstream) {
      for (const chunk of translateEvent(translation, event, target.backendName)) {
        tally(chunk, output);
        yield chunk;
      }
    }
    if (!translation.finished) {
      throw streamInterrupted(target.backendName, 'closed the stream before it finished');
    }
    if (request.clientWantsStreamUsage) {
      yield translation.usageChunk(finalUsage());
    }
  } catch (error) {
    throw streamFailure(target.backendName, error, call.signal);
  } finally {
    settle(finalUsage());
  }
}

/**
 * One event's chunks. A translation that throws on a shape no check foresaw (a
 * TypeError) ends the stream as the backend's malformed event, keeping the cause,
 * rather than as a backend that broke the stream off.
 */
function translateEvent<E>(
  translation: StreamTranslation<E>,
  event: E,
  backendName: string,
): readonly JsonObject[] {
  try {
    return translation.translate(event);
  } catch (error) {
    if (error instanceof DataPlaneError) throw error;
    throw streamInterrupted(
      backendName,
      'sent a stream event the gateway could not translate',
      error,
    );
  }
}

/** Adds a chunk's generated text (reasoning, content and tool arguments) to the tally. */
function tally(chunk: JsonObject, output: OutputTally): void {
  const choices = chunk.choices as JsonObject[] | undefined;
  output.addDelta(choices?.[0]?.delta);
}
