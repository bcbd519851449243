import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { translateGeminiRequest } from './gemini-request';
import { toGeminiResponse } from './gemini-response';
import { GeminiStreamTranslator } from './gemini-stream';

// A response schema whose root is not an object (Google's own example: an ARRAY of
// recipes) went to every backend as it came, and OpenAI's json_schema refuses it ("schema
// must be a JSON Schema of 'type: "object"'"), as Claude's answer tool does. It is asked
// for as an object's one property now, and answered as that property's value.

const call = { model: 'my-virtual', stream: false };
const usage: TokenUsage = {
  inputTokens: 5,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported',
};

function translated(generationConfig: JsonObject) {
  return translateGeminiRequest({ contents: [{ parts: [{ text: 'x' }] }], generationConfig }, call);
}

const RECIPES = { type: 'ARRAY', items: { type: 'STRING' } };

describe('Gemini response schemas whose root is not an object', () => {
  it('asks for them as the one property of an object, $defs kept at the root', () => {
    const { chat, facts } = translated({
      responseMimeType: 'application/json',
      responseSchema: RECIPES,
    });
    assert.deepEqual(chat.response_format, {
      type: 'json_schema',
      json_schema: {
        name: 'response',
        schema: {
          type: 'object',
          properties: { value: { type: 'array', items: { type: 'string' } } },
          required: ['value'],
          additionalProperties: false,
        },
      },
    });
    assert.equal(facts.wrappedJson, true);
    const defs = { item: { type: 'string' } };
    const json = translated({
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'array', items: { $ref: '#/$defs/item' }, $defs: defs },
    }).chat.response_format as JsonObject;
    assert.deepEqual((json.json_schema as JsonObject).schema, {
      type: 'object',
      properties: { value: { type: 'array', items: { $ref: '#/$defs/item' } } },
      required: ['value'],
      additionalProperties: false,
      $defs: defs,
    });
  });

  it('asks for an object-rooted schema as it came', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const { chat, facts } = translated({
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    });
    assert.deepEqual((chat.response_format as JsonObject).json_schema, {
      name: 'response',
      schema,
    });
    assert.equal(facts.wrappedJson, undefined);
  });

  it("answers the property's value, in a JSON answer and a stream", () => {
    const { facts } = translated({ responseMimeType: 'application/json', responseSchema: RECIPES });
    const answer = toGeminiResponse(
      {
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: '{"value": ["soup", "bread"]}' },
            finish_reason: 'stop',
          },
        ],
      },
      usage,
      facts,
      'req-1',
    );
    const parts = ((answer.candidates as JsonObject[])[0].content as JsonObject).parts;
    assert.deepEqual(parts, [{ text: '["soup","bread"]' }]);

    const translator = new GeminiStreamTranslator({ ...facts, stream: true }, 'req-1');
    const chunk = (content: string, finish: string | null = null) => ({
      choices: [{ index: 0, delta: { content }, finish_reason: finish }],
    });
    const events = [
      ...translator.push(chunk('{"value": ["so')),
      ...translator.push(chunk('up", "bread"]}')),
      ...translator.push(chunk('', 'stop')),
      ...translator.finish(usage),
    ];
    const texts = events.flatMap((event) =>
      (event.candidates as JsonObject[]).flatMap(
        (candidate) => ((candidate.content as JsonObject | undefined)?.parts as JsonObject[]) ?? [],
      ),
    );
    assert.deepEqual(texts, [{ text: '["soup","bread"]' }]);
  });

  it("gives an answer cut short as the client's own JSON so far, the wrapper's opening left out", () => {
    const { facts } = translated({ responseMimeType: 'application/json', responseSchema: RECIPES });
    // What Gemini itself answers for an ARRAY schema cut short: the array so far.
    for (const [cut, own] of [
      ['{"value": ["so', '["so'],
      [' {\n  "value" :[', '['],
      ['{"val', ''],
    ]) {
      const answer = toGeminiResponse(
        {
          choices: [
            { index: 0, message: { role: 'assistant', content: cut }, finish_reason: 'length' },
          ],
        },
        usage,
        facts,
        'req-1',
      );
      const [candidate] = answer.candidates as JsonObject[];
      assert.deepEqual((candidate.content as JsonObject).parts, [{ text: own }], cut);
      assert.equal(candidate.finishReason, 'MAX_TOKENS');
    }

    const translator = new GeminiStreamTranslator({ ...facts, stream: true }, 'req-1');
    const events = [
      ...translator.push({ choices: [{ index: 0, delta: { content: '{"value": [' } }] }),
      ...translator.push({
        choices: [{ index: 0, delta: { content: '"so' }, finish_reason: 'length' }],
      }),
      ...translator.finish(usage),
    ];
    const parts = events.flatMap((event) =>
      (event.candidates as JsonObject[]).flatMap(
        (candidate) => ((candidate.content as JsonObject | undefined)?.parts as JsonObject[]) ?? [],
      ),
    );
    assert.deepEqual(parts, [{ text: '["so' }]);
  });

  it("gives a backend's answer of the client's own schema, not wrapped, as it came", () => {
    const { facts } = translated({ responseMimeType: 'application/json', responseSchema: RECIPES });
    for (const content of ['["soup"]', '"soup"']) {
      const answer = toGeminiResponse(
        { choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] },
        usage,
        facts,
        'req-1',
      );
      const [candidate] = answer.candidates as JsonObject[];
      assert.deepEqual((candidate.content as JsonObject).parts, [{ text: content }]);
    }
  });
});
