import type { Dispatcher } from 'undici';
import {
  SPEECH_TOKENS_PER_CHARACTER,
  type JsonObject,
  type ProviderCall,
  type StreamAnswer,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import {
  audioPieces,
  speechEvents,
  spokenCharacters,
  wantsSpeechEvents,
} from './openai-speech-events';
import { servedByTarget } from './openai-wire';
import { countTokens } from './tokenizer';
import { credentialHeaders, sendUpstream, streamFailure, type UpstreamPost } from './upstream-http';

/**
 * One text-to-speech call at an endpoint of OpenAI's wire format. The audio is relayed as
 * it arrives, as events `{type: 'speech.audio.chunk', content_type, audio}` (base64), so it
 * takes the streams' path through router and wire: failover until the first bytes, then a
 * broken stream is an error. OpenAI reports no usage for a plain audio answer: the call is
 * counted as the characters spoken and the tokens they make (input by tokenizer, audio
 * output at SPEECH_TOKENS_PER_CHARACTER), marked estimated. With `stream_format: "sse"` the
 * backend's own events are relayed instead (`speechEvents`), and counted as the usage of
 * their done event when it has one.
 */
export async function invokeOpenAiSpeech(
  call: ProviderCall,
  url: string,
  dispatcher: Dispatcher,
): Promise<StreamAnswer> {
  const { request, target } = call;
  const asEvents = wantsSpeechEvents(request.body);
  const post: UpstreamPost = {
    url,
    headers: {
      ...request.forwardHeaders,
      ...credentialHeaders(target),
      'content-type': 'application/json',
      accept: asEvents
        ? 'text/event-stream, audio/*, application/octet-stream'
        : 'audio/*, application/octet-stream',
    },
    body: JSON.stringify({ ...request.body, model: target.model }),
  };
  const response = await sendUpstream(call, post, dispatcher);
  const type = response.headers['content-type'];
  const contentType = typeof type === 'string' && type !== '' ? type : 'application/octet-stream';
  let settle!: (usage: TokenUsage) => void;
  const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
  const events = asEvents
    ? speechEvents(response.body, contentType, call, (reported) =>
        settle(reported ?? speechUsage(request.body)),
      )
    : audioEvents(response.body, contentType, call, () => settle(speechUsage(request.body)));
  return { kind: 'stream', status: 200, events, usage, servedBy: servedByTarget(call) };
}

/** What speaking `body.input` is counted as (the same whether it ended well or not). */
export function speechUsage(body: JsonObject): TokenUsage {
  const input = typeof body.input === 'string' ? body.input : '';
  const instructions = typeof body.instructions === 'string' ? body.instructions : '';
  const characters = spokenCharacters(body);
  return {
    inputTokens: countTokens(input) + (instructions ? countTokens(instructions) : 0),
    outputTokens: Math.ceil(characters * SPEECH_TOKENS_PER_CHARACTER),
    cachedInputTokens: 0,
    characters,
    source: 'estimated',
  };
}

async function* audioEvents(
  body: Dispatcher.ResponseData['body'],
  contentType: string,
  call: ProviderCall,
  done: () => void,
): AsyncGenerator<JsonObject> {
  try {
    for await (const piece of audioPieces(body)) {
      yield {
        type: 'speech.audio.chunk',
        content_type: contentType,
        audio: piece.toString('base64'),
      };
    }
  } catch (error) {
    throw streamFailure(call.target.backendName, error, call.signal);
  } finally {
    done();
  }
}
