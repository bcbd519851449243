import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  audioSecondsUpperBound,
  MIN_AUDIO_BYTES_PER_SECOND,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import {
  AUDIO_TOKENS_PER_SECOND,
  audioApiHoldCounts,
  audioHoldCounts,
  TRANSCRIPT_TOKENS_PER_SECOND,
} from './audio-hold';

function wavHeader(byteRate: number, dataBytes: number, extraChunk = false): Buffer {
  const list = extraChunk
    ? Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0, 1, 2, 3, 0])])
    : Buffer.alloc(0);
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt32LE(byteRate, 16);
  const data = Buffer.alloc(8);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(dataBytes, 4);
  return Buffer.concat([
    Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'),
    list,
    fmt,
    data,
    Buffer.alloc(dataBytes),
  ]);
}

describe('audioSecondsUpperBound', () => {
  it("reads a WAV's duration from its header, past other chunks", () => {
    assert.equal(audioSecondsUpperBound(wavHeader(32_000, 64_000)), 2);
    assert.equal(audioSecondsUpperBound(wavHeader(16_000, 8_000, true)), 0.5);
  });

  it('bounds a WAV whose data size is unset by the bytes present', () => {
    const file = wavHeader(32_000, 16_000);
    file.writeUInt32LE(0xffffffff, file.length - 16_000 - 4);
    assert.equal(audioSecondsUpperBound(file), 0.5);
  });

  it('takes any other file at the lowest bitrate assumed', () => {
    const mp3 = Buffer.alloc(100_000, 0xff);
    assert.equal(audioSecondsUpperBound(mp3), 100_000 / MIN_AUDIO_BYTES_PER_SECOND);
  });
});

describe('audioHoldCounts', () => {
  it('holds the duration, and the audio and transcript tokens it may bill', () => {
    const request = {
      body: { model: 'whisper-1', prompt: 'x' },
      uploads: [
        {
          field: 'file',
          filename: 'a.wav',
          contentType: 'audio/wav',
          data: wavHeader(32_000, 320_000),
        },
      ],
    } as unknown as GatewayRequest;
    const counts = audioHoldCounts(request);
    assert.equal(counts.audioSeconds, 10);
    assert.equal(counts.outputTokens, 10 * TRANSCRIPT_TOKENS_PER_SECOND);
    assert.ok(counts.inputTokens > 10 * AUDIO_TOKENS_PER_SECOND, 'the prompt counts too');
  });
});

describe('audioApiHoldCounts for speech', () => {
  it('holds the characters, the text and instruction tokens, and the audio tokens', () => {
    const speech = (body: Record<string, unknown>) =>
      ({
        operation: 'speech',
        body: { model: 'tts-1', voice: 'a', ...body },
      }) as unknown as GatewayRequest;
    const counts = audioApiHoldCounts(speech({ input: 'Grüße 😀' }));
    assert.equal(counts.characters, 7);
    assert.equal(counts.outputTokens, Math.ceil(7 * 1.4));
    assert.equal(counts.audioSeconds, undefined);
    const instructed = audioApiHoldCounts(
      speech({ input: 'Grüße 😀', instructions: 'Whisper it.' }),
    );
    assert.ok(instructed.inputTokens > counts.inputTokens);
  });
});
