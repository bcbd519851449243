import type { TokenCounts } from '@aigw/budget-core';
import {
  audioSecondsUpperBound,
  estimatePromptTokensUpperBound,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';

/** Audio tokens a second of speech may bill (OpenAI's transcription models bill about 10). */
export const AUDIO_TOKENS_PER_SECOND = 25;
/** Transcript tokens a second of speech may produce (fast speech is ~4 words a second). */
export const TRANSCRIPT_TOKENS_PER_SECOND = 8;

/**
 * What an audio request may cost at most, before the backend says: its duration (a WAV's
 * from its header, else from the size at the lowest bitrate assumed) at the per-minute
 * price, or that many audio tokens in and transcript tokens out at the token price.
 */
export function audioHoldCounts(request: GatewayRequest): TokenCounts {
  const seconds = audioSecondsUpperBound(request.upload?.data ?? new Uint8Array());
  const audioTokens = Math.ceil(seconds * AUDIO_TOKENS_PER_SECOND);
  return {
    inputTokens: estimatePromptTokensUpperBound(request.body) + audioTokens,
    audioInputTokens: audioTokens,
    outputTokens: Math.ceil(seconds * TRANSCRIPT_TOKENS_PER_SECOND),
    audioSeconds: seconds,
  };
}
