import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { translateGeminiRequest } from './gemini-request';

// generationConfig.responseModalities at the Gemini edge: an image model's ["TEXT",
// "IMAGE"] travels as sent in provider_extras (Gemini and Vertex Gemini take it); AUDIO,
// and anything not a modality name, is Google's 400 naming the entry.

const call = { model: 'nano-banana', stream: false };
const contents = [{ role: 'user', parts: [{ text: 'Draw a cat' }] }];

function chatAsking(responseModalities: unknown) {
  return translateGeminiRequest({ contents, generationConfig: { responseModalities } }, call).chat;
}

describe('Gemini edge: responseModalities', () => {
  it('carries TEXT and IMAGE, or IMAGE alone, as sent', () => {
    assert.deepEqual(chatAsking(['TEXT', 'IMAGE']).provider_extras, {
      response_modalities: ['TEXT', 'IMAGE'],
    });
    assert.deepEqual(chatAsking(['IMAGE']).provider_extras, { response_modalities: ['IMAGE'] });
    assert.deepEqual(chatAsking(['TEXT']).provider_extras, { response_modalities: ['TEXT'] });
  });

  it("reads the names in any case, as Google's Python examples write them", () => {
    assert.deepEqual(chatAsking(['Text', 'image']).provider_extras, {
      response_modalities: ['TEXT', 'IMAGE'],
    });
  });

  it('adds nothing for an empty list', () => {
    assert.equal(chatAsking([]).provider_extras, undefined);
  });

  it('refuses AUDIO and other values, naming the entry', () => {
    for (const [value, at] of [
      [['TEXT', 'AUDIO'], 'generation_config.response_modalities[1]'],
      [['audio'], 'generation_config.response_modalities[0]'],
      [[7], 'generation_config.response_modalities[0]'],
      ['IMAGE', 'generation_config.response_modalities'],
    ] as const) {
      assert.throws(
        () => chatAsking(value),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          error.message.includes(`'${at}'`),
        JSON.stringify(value),
      );
    }
  });
});
