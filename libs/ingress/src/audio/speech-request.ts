import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

/** The most text OpenAI speaks in one call. */
export const MAX_SPEECH_CHARACTERS = 4096;

const FORMATS: ReadonlySet<string> = new Set(['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm']);

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/**
 * Checks a text-to-speech body as OpenAI does, before it is routed: the text (at most
 * 4096 characters: the budget hold and the per-character bill read it), a voice (a name or
 * `{id}`), the format, the speed, and `stream_format` (`audio`, or `sse` for the
 * backend's events). Other fields pass through.
 */
export function checkedSpeechBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body; // the builder says so
  const json = body as JsonObject;
  const input = json.input;
  if (typeof input !== 'string' || input.length === 0) {
    throw invalid("'input' must be a non-empty string", 'input');
  }
  if ([...input].length > MAX_SPEECH_CHARACTERS) {
    throw invalid(`'input' must be at most ${MAX_SPEECH_CHARACTERS} characters`, 'input');
  }
  const voice = json.voice;
  const voiceId = (voice as JsonObject | null)?.id;
  if (!(typeof voice === 'string' && voice !== '') && typeof voiceId !== 'string') {
    throw invalid('\'voice\' must be a voice name or {"id": ...}', 'voice');
  }
  const format = json.response_format;
  if (format !== undefined && !FORMATS.has(format as string)) {
    throw invalid(`'response_format' must be one of ${[...FORMATS].join(', ')}`, 'response_format');
  }
  const speed = json.speed;
  if (speed !== undefined && (typeof speed !== 'number' || !(speed >= 0.25 && speed <= 4))) {
    throw invalid("'speed' must be a number from 0.25 to 4", 'speed');
  }
  if (json.instructions !== undefined && typeof json.instructions !== 'string') {
    throw invalid("'instructions' must be a string", 'instructions');
  }
  const streamFormat = json.stream_format;
  if (streamFormat !== undefined && streamFormat !== 'audio' && streamFormat !== 'sse') {
    throw invalid("'stream_format' must be 'audio' or 'sse'", 'stream_format');
  }
  if (json.stream !== undefined) {
    throw invalid("'stream' is not a speech setting: the audio is always streamed", 'stream');
  }
  return json;
}
