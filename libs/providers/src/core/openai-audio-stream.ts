import type { Dispatcher } from 'undici';
import type {
  JsonObject,
  ProviderCall,
  StreamAnswer,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import { parseJsonObject } from './json-shape';
import { servedByTarget } from './openai-wire';
import { sseMessages } from './sse-events';
import { streamEventObject } from './stream-event-json';
import { bodyChunks } from './upstream-body';
import {
  readBounded,
  sendUpstream,
  streamFailure,
  streamInterrupted,
  MAX_ANSWER_BYTES,
  type UpstreamPost,
} from './upstream-http';

/**
 * A streamed transcription (gpt-4o-transcribe with `stream: true`): OpenAI's events
 * (`transcript.text.delta`, then `transcript.text.done` with the usage) relayed as they
 * come, Mistral's under those names. A backend that ignores `stream` (whisper-1 does)
 * answers JSON, relayed as one `transcript.text.done` event. Usage is the done event's, else `fallback` of the text.
 */
export async function streamTranscript(
  call: ProviderCall,
  post: UpstreamPost,
  dispatcher: Dispatcher,
  reported: (body: JsonObject) => TokenUsage | undefined,
  fallback: (text: string) => TokenUsage,
): Promise<StreamAnswer> {
  const { target } = call;
  const response = await sendUpstream(
    call,
    { ...post, headers: { ...post.headers, accept: 'text/event-stream' } },
    dispatcher,
  );
  let settle!: (usage: TokenUsage) => void;
  const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
  const type = String(response.headers['content-type'] ?? '');
  async function* events(): AsyncGenerator<JsonObject> {
    let text = '';
    let usage: TokenUsage | undefined;
    try {
      if (type.includes('application/json')) {
        const body = parseJsonObject(await readBounded(response.body, MAX_ANSWER_BYTES));
        if (!body || typeof body.text !== 'string') {
          throw streamInterrupted(target.backendName, 'answered without a transcript');
        }
        text = body.text;
        usage = reported(body);
        yield {
          type: 'transcript.text.done',
          text: body.text,
          ...(body.usage ? { usage: body.usage } : {}),
        };
        return;
      }
      let done = false;
      for await (const message of sseMessages(bodyChunks(response.body))) {
        if (message.data === '[DONE]') break;
        const event = asOpenAiTranscriptEvent(streamEventObject(target.backendName, message.data));
        if (event.error || event.type === 'error') {
          throw streamInterrupted(target.backendName, 'reported an error mid-stream');
        }
        if (event.type === 'transcript.text.delta' && typeof event.delta === 'string') {
          text += event.delta;
        }
        if (event.type === 'transcript.text.done') {
          done = true;
          if (typeof event.text === 'string') text = event.text;
          usage = reported(event) ?? usage;
        }
        yield event;
      }
      if (!done)
        throw streamInterrupted(target.backendName, 'closed the stream before it finished');
    } catch (error) {
      throw streamFailure(target.backendName, error, call.signal);
    } finally {
      settle(usage ?? fallback(text));
    }
  }
  return { kind: 'stream', status: 200, events: events(), usage, servedBy: servedByTarget(call) };
}

/**
 * Mistral's transcription events under OpenAI's names, so an OpenAI client reads them and
 * the stream ends at its done event: `transcription.text.delta` ({text}) as
 * `transcript.text.delta` ({delta}), `transcription.done` as `transcript.text.done`. Its
 * language and segment events, which OpenAI's stream has no like of, pass as they came.
 */
function asOpenAiTranscriptEvent(event: JsonObject): JsonObject {
  if (event.type === 'transcription.text.delta' && typeof event.text === 'string') {
    const { text, ...rest } = event;
    return { ...rest, type: 'transcript.text.delta', delta: text };
  }
  return event.type === 'transcription.done' ? { ...event, type: 'transcript.text.done' } : event;
}
