import type { Dispatcher } from 'undici';
import type { JsonObject, ProviderCall, TokenUsage } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { sseMessages } from './sse-events';
import { streamEventObject } from './stream-event-json';
import { bodyChunks } from './upstream-body';
import { streamFailure, streamInterrupted } from './upstream-http';
import { tokenCount } from './usage';

/** Bytes of audio a stream event carries at most (base64 in the canonical events). */
export const MAX_EVENT_BYTES = 64 * 1024;

type ResponseBody = Dispatcher.ResponseData['body'];

/** Whether a speech body asks for server-sent events instead of the audio itself. */
export function wantsSpeechEvents(body: JsonObject): boolean {
  return body.stream_format === 'sse';
}

/** The characters of `body.input` (code points, as OpenAI counts them for tts-1's price). */
export function spokenCharacters(body: JsonObject): number {
  return typeof body.input === 'string' ? [...body.input].length : 0;
}

/** An upstream's audio bytes in pieces of at most MAX_EVENT_BYTES. */
export async function* audioPieces(body: ResponseBody): AsyncGenerator<Buffer> {
  for await (const chunk of bodyChunks(body)) {
    for (let at = 0; at < chunk.length; at += MAX_EVENT_BYTES) {
      yield chunk.subarray(at, at + MAX_EVENT_BYTES);
    }
  }
}

/**
 * The usage of a `speech.audio.done` event (`{input_tokens, output_tokens, total_tokens}`)
 * with the characters spoken, so a per-character price still applies; undefined without
 * usable input and output counts.
 */
export function reportedSpeechUsage(event: JsonObject, body: JsonObject): TokenUsage | undefined {
  const usage = event.usage;
  if (!isJsonObject(usage)) return undefined;
  const inputTokens = tokenCount(usage.input_tokens);
  const outputTokens = tokenCount(usage.output_tokens);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: 0,
    characters: spokenCharacters(body),
    source: 'reported',
  };
}

/**
 * Speech asked as server-sent events (`stream_format: "sse"`): OpenAI's events
 * (`speech.audio.delta` with base64 audio, then `speech.audio.done` with the usage)
 * relayed as they come; a stream that ends without its done event, or reports an error,
 * is interrupted. A backend that ignores `stream_format` and answers audio (a server
 * without the events) has its bytes relayed as deltas and a done event without usage.
 * `settle` gets the done event's usage, or undefined when there was none.
 */
export async function* speechEvents(
  body: ResponseBody,
  contentType: string,
  call: ProviderCall,
  settle: (reported: TokenUsage | undefined) => void,
): AsyncGenerator<JsonObject> {
  const backend = call.target.backendName;
  let reported: TokenUsage | undefined;
  try {
    if (!contentType.includes('text/event-stream')) {
      for await (const piece of audioPieces(body)) {
        yield { type: 'speech.audio.delta', audio: piece.toString('base64') };
      }
      yield { type: 'speech.audio.done' };
      return;
    }
    let done = false;
    for await (const message of sseMessages(bodyChunks(body))) {
      if (message.data === '[DONE]') break;
      const event = streamEventObject(backend, message.data);
      if (event.error || event.type === 'error') {
        throw streamInterrupted(backend, 'reported an error mid-stream');
      }
      if (event.type === 'speech.audio.done') {
        done = true;
        reported = reportedSpeechUsage(event, call.request.body);
      }
      yield event;
    }
    if (!done) throw streamInterrupted(backend, 'closed the stream before it finished');
  } catch (error) {
    throw streamFailure(backend, error, call.signal);
  } finally {
    settle(reported);
  }
}
