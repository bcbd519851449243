// A chat request's input_audio was held as its text alone: a minute of speech (1,920 audio
// tokens on Gemini) was held as a few tokens, so concurrent calls of audio
// ran a budget past its limit before any settled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_AUDIO_BYTES_PER_SECOND, type GatewayRequest } from '@aigw/contracts/data-plane';
import { admissionOn, ask, refusalOf } from './admission-fixture';
import { chatAudioTokensUpperBound } from './chat-audio-hold';

const BACKENDS = '    - {name: b, provider: openai, model: chat}';

/** A PCM WAV of `seconds` of silence at `byteRate` bytes a second, as base64. */
function wav(seconds: number, byteRate = 8_000): string {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt32LE(byteRate, 16);
  const dataBytes = seconds * byteRate;
  const data = Buffer.alloc(8);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(dataBytes, 4);
  const riff = Buffer.from('RIFF\0\0\0\0WAVE', 'latin1');
  return Buffer.concat([riff, fmt, data, Buffer.alloc(dataBytes)]).toString('base64');
}

function audioAsk(audio: { data: string; format: string }[], maxTokens = 10): GatewayRequest {
  const request = ask('u', maxTokens);
  const content = [
    { type: 'text', text: 'What is said?' },
    ...audio.map((input_audio) => ({ type: 'input_audio', input_audio })),
  ];
  return { ...request, body: { ...request.body, messages: [{ role: 'user', content }] } };
}

describe("a chat request's input_audio in its budget hold", () => {
  it('counts each clip for its length: a WAV by its header, other audio by its size', () => {
    const mp3 = Buffer.alloc(40_000, 0xff).toString('base64');
    const body = audioAsk([
      { data: wav(60), format: 'wav' },
      { data: mp3, format: 'mp3' },
    ]).body;
    const mp3Seconds = 40_000 / MIN_AUDIO_BYTES_PER_SECOND;
    // Gemini bills 32 audio tokens a second, the most of the backends that take chat audio.
    assert.equal(chatAudioTokensUpperBound(body), (60 + mp3Seconds) * 32);
    assert.equal(chatAudioTokensUpperBound(ask('u').body), 0);
  });

  it('refuses a minute of audio larger than a whole token window, as any large prompt', async () => {
    const { admission } = admissionOn(BACKENDS, '  tokenBudget: {perMinute: {limit: 1000}}');
    await admission.admit(ask('u'));
    const error = await refusalOf(admission.admit(audioAsk([{ data: wav(60), format: 'wav' }])));
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, /may cost up to \d+ tokens/);
  });

  it('holds the audio at the audio rate, not the text rate', async () => {
    // $40 per 1M audio tokens (gpt-4o-audio-preview's) against $2.50 for text: a minute's
    // 1,920 audio tokens are $0.077 at the audio rate, under $0.005 at the text rate.
    const { admission } = admissionOn(
      BACKENDS,
      `  costControl:
    maxDailyCostPerUser: 0.05
    modelPricing: {chat: {inputPer1k: 0.0025, audioInputPer1k: 0.04, outputPer1k: 0.01}}`,
    );
    const error = await refusalOf(admission.admit(audioAsk([{ data: wav(60), format: 'wav' }])));
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, /costControl\.maxDailyCostPerUser/);
  });
});
