/**
 * The lowest bitrate assumed for compressed audio when the file does not say its length:
 * 16 kbit/s, below speech codecs' usual settings (MP3 and M4A speech at 32-64 kbit/s, Opus
 * voice at 16-24), so a file's duration is overestimated, never under.
 */
export const MIN_AUDIO_BYTES_PER_SECOND = 2_000;

/**
 * Audio tokens a second of speech is assumed to bill when a token-billed transcription
 * model (gpt-4o-transcribe) reports none, as with `response_format: "text"`: OpenAI's audio
 * input runs at one token per 100 ms.
 */
export const ESTIMATED_AUDIO_TOKENS_PER_SECOND = 10;

/**
 * A duration no shorter than the audio's: exact for PCM WAV, a bound for the rest.
 * `totalBytes`: the whole file's size, where `data` is only its start (its header).
 */
export function audioSecondsUpperBound(
  data: Uint8Array,
  totalBytes: number = data.byteLength,
): number {
  return wavSeconds(data, totalBytes) ?? totalBytes / MIN_AUDIO_BYTES_PER_SECOND;
}

/**
 * A RIFF/WAVE file's length from its `fmt ` byte rate and `data` size, if it has both
 * within `data`; `totalBytes` as in audioSecondsUpperBound.
 */
export function wavSeconds(
  data: Uint8Array,
  totalBytes: number = data.byteLength,
): number | undefined {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF') return undefined;
  if (bytes.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 20 <= bytes.length) byteRate = bytes.readUInt32LE(at + 16);
    if (id === 'data') {
      if (!byteRate) return undefined;
      // A streamed WAV may leave the size unset (0 or 0xFFFFFFFF): the bytes present bound it.
      const present = totalBytes - at - 8;
      return (size === 0 || size > present ? present : size) / byteRate;
    }
    at += 8 + size + (size % 2);
  }
  return undefined;
}

/**
 * Audio tokens a character of speech is assumed to make when a backend reports none:
 * gpt-4o-mini-tts bills about 1,250 output tokens a minute ($0.015 at $12 per million) and
 * speech runs about 15 characters a second.
 */
export const SPEECH_TOKENS_PER_CHARACTER = 1.4;
