import { audioSecondsUpperBound, eachContentPart } from '@aigw/contracts/data-plane';

/**
 * Audio tokens a second of a chat prompt's audio may bill: Gemini's documented 32, the most
 * of the backends that take audio in chat (OpenAI's audio models bill about 10).
 */
const CHAT_AUDIO_TOKENS_PER_SECOND = 32;

// Enough of a part's base64 to hold a WAV's header (its chunks before `data`): the rest of
// the audio is counted by its length alone, never decoded on the admission path.
const HEADER_BASE64_CHARS = 64 * 1024;

/**
 * The audio tokens a chat request's `input_audio` parts (base64 wav or mp3) may bill: each
 * clip's duration (a WAV's from its header, else from its size at the lowest bitrate
 * assumed) at CHAT_AUDIO_TOKENS_PER_SECOND. The prompt
 * estimate counts text alone, so without these a request of audio was held as a few tokens.
 */
export function chatAudioTokensUpperBound(body: Readonly<Record<string, unknown>>): number {
  let seconds = 0;
  eachContentPart(body, (part) => {
    seconds += inputAudioSeconds(part);
  });
  return Math.ceil(seconds * CHAT_AUDIO_TOKENS_PER_SECOND);
}

function inputAudioSeconds(part: unknown): number {
  const { type, input_audio: audio } = (part ?? {}) as { type?: unknown; input_audio?: unknown };
  const data = type === 'input_audio' ? (audio as { data?: unknown } | null)?.data : undefined;
  if (typeof data !== 'string' || data === '') return 0;
  const header = Buffer.from(data.slice(0, HEADER_BASE64_CHARS), 'base64');
  return audioSecondsUpperBound(header, base64Bytes(data));
}

/** The bytes `base64` decodes to (at most: characters outside the alphabet count too). */
function base64Bytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}
