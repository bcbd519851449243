import type { TokenCounts } from '@aigw/budget-core';
import {
  audioSecondsUpperBound,
  estimatePromptTokensUpperBound,
  IMAGE_OPERATIONS,
  SPEECH_TOKENS_PER_CHARACTER,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { imageHoldCounts } from '../images/image-hold';

/** Audio tokens a second of speech may bill (OpenAI's transcription models bill about 10). */
export const AUDIO_TOKENS_PER_SECOND = 25;
/** Transcript tokens a second of speech may produce (fast speech is ~4 words a second). */
export const TRANSCRIPT_TOKENS_PER_SECOND = 8;

/**
 * What a speech request costs, known before the call: its characters, the text's tokens
 * and the audio tokens that many characters make (as the adapter counts the call).
 */
export function speechHoldCounts(request: GatewayRequest): TokenCounts {
  const input = typeof request.body.input === 'string' ? request.body.input : '';
  const characters = [...input].length;
  return {
    inputTokens: estimatePromptTokensUpperBound(request.body) + instructionTokens(request),
    outputTokens: Math.ceil(characters * SPEECH_TOKENS_PER_CHARACTER),
    characters,
  };
}

function instructionTokens(request: GatewayRequest): number {
  const instructions = request.body.instructions;
  return typeof instructions === 'string'
    ? estimatePromptTokensUpperBound({ prompt: instructions })
    : 0;
}

/** The worst case of an audio API call (speech to text or text to speech). */
export function audioApiHoldCounts(request: GatewayRequest): TokenCounts {
  return request.operation === 'speech' ? speechHoldCounts(request) : audioHoldCounts(request);
}

/** The worst case of a media call (audio or images), whose costs are not chat's. */
export function mediaHoldCounts(request: GatewayRequest): TokenCounts {
  return IMAGE_OPERATIONS.has(request.operation)
    ? imageHoldCounts(request)
    : audioApiHoldCounts(request);
}

/**
 * What an audio request may cost at most, before the backend says: its duration (a WAV's
 * from its header, else from the size at the lowest bitrate assumed) at the per-minute
 * price, or that many audio tokens in and transcript tokens out at the token price.
 */
export function audioHoldCounts(request: GatewayRequest): TokenCounts {
  const seconds = audioSecondsUpperBound(request.uploads?.[0]?.data ?? new Uint8Array());
  const audioTokens = Math.ceil(seconds * AUDIO_TOKENS_PER_SECOND);
  return {
    inputTokens: estimatePromptTokensUpperBound(request.body) + audioTokens,
    audioInputTokens: audioTokens,
    outputTokens: Math.ceil(seconds * TRANSCRIPT_TOKENS_PER_SECOND),
    audioSeconds: seconds,
  };
}
