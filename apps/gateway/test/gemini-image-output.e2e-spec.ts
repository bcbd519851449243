import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI } from '@google/genai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnGeminiBackend } from './gemini-backend';

// Google's SDK calling an image model (gemini-2.5-flash-image) through the gateway, as
// Google's docs write it: the image the model made comes back as an inlineData part.

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('Gemini API: an image model answers its image', () => {
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    gateway = await startOnGeminiBackend(gemini, 'nano-banana', 'gemini-2.5-flash-image');
    client = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: gateway.baseUrl } });
  });
  after(async () => {
    await gateway.stop();
    await gemini.stop();
  });

  it('gives the image as an inlineData part beside the text', async () => {
    gemini.next({
      kind: 'json',
      body: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'Here is a cat.' },
                { inlineData: { mimeType: 'image/png', data: PNG } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: {
          promptTokenCount: 6,
          candidatesTokenCount: 1295,
          totalTokenCount: 1301,
          candidatesTokensDetails: [
            { modality: 'TEXT', tokenCount: 5 },
            { modality: 'IMAGE', tokenCount: 1290 },
          ],
        },
      },
    });
    const answer = await client.models.generateContent({
      model: 'nano-banana',
      contents: 'Draw a cat',
    });
    assert.equal(answer.text, 'Here is a cat.');
    assert.deepEqual(answer.data, PNG);
    assert.deepEqual(answer.candidates?.[0].content?.parts?.[1], {
      inlineData: { mimeType: 'image/png', data: PNG },
    });
  });

  it("takes the image back in a chat's next turn, as the SDK's chat helper sends it", async () => {
    const answer = (text: string, parts: unknown[] = []) =>
      gemini.next({
        kind: 'json',
        body: {
          candidates: [
            { content: { role: 'model', parts: [{ text }, ...parts] }, finishReason: 'STOP' },
          ],
          usageMetadata: { promptTokenCount: 6, candidatesTokenCount: 5, totalTokenCount: 11 },
        },
      });
    const chat = client.chats.create({ model: 'nano-banana' });
    answer('Here is a cat.', [{ inlineData: { mimeType: 'image/png', data: PNG } }]);
    await chat.sendMessage({ message: 'Draw a cat' });
    answer('Here it is in blue.');
    const second = await chat.sendMessage({ message: 'Make it blue' });
    assert.equal(second.text, 'Here it is in blue.');
    // The model turn reached Gemini as it was: its text, then its image.
    const contents = gemini.calls.at(-1)!.body.contents as unknown[];
    assert.deepEqual(contents[1], {
      role: 'model',
      parts: [{ text: 'Here is a cat.' }, { inlineData: { mimeType: 'image/png', data: PNG } }],
    });
  });
});
