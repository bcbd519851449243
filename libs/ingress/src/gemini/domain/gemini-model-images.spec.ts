import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { translateGeminiRequest } from './gemini-request';

// The @google/genai chat helper keeps an image model's answer in the history, its images
// as inlineData parts of the model turn, and sends it back with the next message: a 400
// ("'inlineData' parts in model turns are not served") ended every such chat's second turn.

const call = { model: 'image-model', stream: false };
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('Gemini request translation: a model turn with inlineData', () => {
  it("carries the model's images as image_url parts of its turn, in order with its text", () => {
    const { chat } = translateGeminiRequest(
      {
        contents: [
          { role: 'user', parts: [{ text: 'Draw a cat' }] },
          {
            role: 'model',
            parts: [
              { text: 'Here it is:' },
              { inlineData: { mimeType: 'image/png', data: PNG } },
              { text: 'Enjoy.' },
            ],
          },
          { role: 'user', parts: [{ text: 'Make it blue' }] },
        ],
      },
      call,
    );
    assert.deepEqual((chat.messages as unknown[])[1], {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Here it is:' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: 'text', text: 'Enjoy.' },
      ],
    });
  });

  it('keeps a model turn without images a plain text, as before', () => {
    const { chat } = translateGeminiRequest(
      {
        contents: [
          { role: 'user', parts: [{ text: 'a' }] },
          { role: 'model', parts: [{ text: 'b' }] },
        ],
      },
      call,
    );
    assert.deepEqual((chat.messages as unknown[])[1], { role: 'assistant', content: 'b' });
  });

  it('refuses other inline data in a model turn, naming the part', () => {
    assert.throws(
      () =>
        translateGeminiRequest(
          {
            contents: [
              { role: 'user', parts: [{ text: 'Say hi' }] },
              {
                role: 'model',
                parts: [{ inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } }],
              },
            ],
          },
          call,
        ),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'contents[1].parts[0].inline_data.mime_type' &&
        /images/.test(error.message),
    );
  });
});
