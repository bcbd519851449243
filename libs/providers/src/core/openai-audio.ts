import type { Dispatcher } from 'undici';
import {
  audioSecondsUpperBound,
  DataPlaneError,
  DataPlaneErrorCode,
  ESTIMATED_AUDIO_TOKENS_PER_SECOND,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type ProviderCall,
  type StreamAnswer,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { isJsonObject, parseJsonObject } from './json-shape';
import { streamTranscript } from './openai-audio-stream';
import { servedByTarget } from './openai-wire';
import { countTokens } from './tokenizer';
import { badResponse, credentialHeaders, type UpstreamPost } from './upstream-http';
import { uploadForm } from './upload-form';
import { fetchUpstreamText } from './upstream-json';

/** The formats answered as JSON; the others (text, srt, vtt) are the transcript itself. */
const JSON_FORMATS: ReadonlySet<string> = new Set(['json', 'verbose_json', 'diarized_json']);

/**
 * One transcription or translation at an endpoint of OpenAI's wire format: the client's
 * form written out again (same fields, the served model, the file), the answer passed
 * back as it came. Usage is the backend's: tokens (gpt-4o-transcribe), or the seconds of
 * audio a per-minute model reports (`usage.seconds`, Mistral's `usage.prompt_audio_seconds`,
 * verbose_json's `duration`); else the duration is estimated from the file (exact for WAV),
 * with the audio tokens it makes, and the transcript's tokens counted.
 */
export async function invokeOpenAiAudio(
  call: ProviderCall,
  url: string,
  dispatcher: Dispatcher,
): Promise<JsonAnswer | StreamAnswer> {
  const { request, target } = call;
  if (!request.uploads?.some((upload) => upload.field === 'file')) {
    throw new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'The audio file is missing', {
      param: 'file',
    });
  }
  const form = uploadForm(request.body, target.model, request.uploads);
  const post: UpstreamPost = {
    url,
    headers: {
      ...request.forwardHeaders,
      ...credentialHeaders(target),
      'content-type': form.contentType,
      accept: 'application/json, text/plain, */*',
    },
    body: form.body,
  };
  if (request.stream) {
    return streamTranscript(call, post, dispatcher, reportedAudioUsage, (text) =>
      estimatedAudioUsage(request, text),
    );
  }
  const response = await fetchUpstreamText(call, post, dispatcher);
  const servedBy = servedByTarget(call);
  const format =
    typeof request.body.response_format === 'string' ? request.body.response_format : 'json';
  if (JSON_FORMATS.has(format)) {
    const body = parseJsonObject(response.body);
    if (!body || typeof body.text !== 'string') {
      throw badResponse(target.backendName, 'a transcription without its "text"');
    }
    const usage = reportedAudioUsage(body) ?? estimatedAudioUsage(request, body.text);
    return { kind: 'json', status: 200, body, usage, servedBy };
  }
  const type = response.headers['content-type'];
  return {
    kind: 'json',
    status: 200,
    body: { text: response.body },
    mediaType: typeof type === 'string' && type !== '' ? type : 'text/plain; charset=utf-8',
    usage: estimatedAudioUsage(request, response.body),
    servedBy,
  };
}

/** What a transcription's JSON says it used, if anything. */
export function reportedAudioUsage(body: JsonObject): TokenUsage | undefined {
  const usage = body.usage;
  if (isJsonObject(usage)) {
    if (usage.type === 'tokens' && count(usage.input_tokens) !== undefined) {
      const details = isJsonObject(usage.input_token_details) ? usage.input_token_details : {};
      const audio = count(details.audio_tokens) ?? 0;
      return {
        inputTokens: count(usage.input_tokens)!,
        outputTokens: count(usage.output_tokens) ?? 0,
        cachedInputTokens: 0,
        ...(audio > 0 ? { audioInputTokens: audio } : {}),
        source: 'reported',
      };
    }
    if (usage.type === 'duration' && count(usage.seconds) !== undefined) {
      return { ...NO_TOKENS, audioSeconds: count(usage.seconds)!, source: 'reported' };
    }
    // Mistral (Voxtral) reports the seconds it heard beside chat's token names.
    if (count(usage.prompt_audio_seconds) !== undefined) {
      return {
        inputTokens: count(usage.prompt_tokens) ?? 0,
        outputTokens: count(usage.completion_tokens) ?? 0,
        cachedInputTokens: 0,
        audioSeconds: count(usage.prompt_audio_seconds)!,
        source: 'reported',
      };
    }
  }
  const duration = count(body.duration);
  return duration === undefined
    ? undefined
    : { ...NO_TOKENS, audioSeconds: duration, source: 'reported' };
}

const NO_TOKENS = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 } as const;

/**
 * Without a report: the file's duration (exact for WAV) for a per-minute price, the audio
 * tokens that many seconds make and the prompt's for a token price (a per-minute model's
 * input costs 0), and the transcript's tokens.
 */
function estimatedAudioUsage(request: GatewayRequest, transcript: string): TokenUsage {
  const seconds = audioSecondsUpperBound(request.uploads?.[0]?.data ?? new Uint8Array());
  const audioTokens = Math.ceil(seconds * ESTIMATED_AUDIO_TOKENS_PER_SECOND);
  const prompt = typeof request.body.prompt === 'string' ? countTokens(request.body.prompt) : 0;
  return {
    inputTokens: prompt + audioTokens,
    outputTokens: countTokens(transcript),
    cachedInputTokens: 0,
    ...(audioTokens > 0 ? { audioInputTokens: audioTokens } : {}),
    audioSeconds: seconds,
    source: 'estimated',
  };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
