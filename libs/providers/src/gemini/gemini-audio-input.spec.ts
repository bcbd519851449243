import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { parseChatRequest } from '../core/chat-request';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';

// Chat `input_audio` parts (OpenAI's wav/mp3 audio, and the Gemini API's own inlineData
// audio, which the edge carries as them) reach Gemini as inline data; they were a 400.

const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAgD4AAAB9AAACABAAZGF0YQAAAAA=';
const MP3 = 'SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjU4Ljc2LjEwMAAAAAAAAAAAAAAA';

function audioMessage(...audio: JsonObject[]): JsonObject[] {
  return [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is said in these?' },
        ...audio.map((input_audio) => ({ type: 'input_audio', input_audio })),
      ],
    },
  ];
}

describe('input_audio on a Gemini backend', () => {
  const { upstream, invoke } = fakeGeminiBackend();

  it('sends wav and mp3 audio as inline data, in the order the client gave it', async () => {
    const answer = await invoke(
      gatewayChatRequest({
        messages: audioMessage({ data: WAV, format: 'wav' }, { data: MP3, format: 'mp3' }),
      }),
    );
    assert.equal(answer.kind, 'json');
    assert.deepEqual(upstream.calls[0].body.contents, [
      {
        role: 'user',
        parts: [
          { text: 'What is said in these?' },
          { inlineData: { mimeType: 'audio/wav', data: WAV } },
          { inlineData: { mimeType: 'audio/mp3', data: MP3 } },
        ],
      },
    ]);
  });

  it('refuses a format other than wav or mp3, and audio without data, naming the field', async () => {
    for (const [audio, param] of [
      [{ data: WAV, format: 'flac' }, 'messages[0].content[1].input_audio.format'],
      [{ format: 'wav' }, 'messages[0].content[1].input_audio.data'],
    ] as const) {
      await assert.rejects(
        invoke(gatewayChatRequest({ messages: audioMessage(audio) })),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === param,
      );
    }
    assert.equal(upstream.calls.length, 0);
  });
});

describe('input_audio on a backend that takes no audio', () => {
  it('is a 400 naming the part, as before', () => {
    assert.throws(
      () => parseChatRequest({ messages: audioMessage({ data: WAV, format: 'wav' }) }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'messages[0].content[1]' &&
        /input_audio/.test(error.message),
    );
  });
});
