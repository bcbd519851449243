import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject, type TokenUsage } from '@aigw/contracts/data-plane';
import { translateGeminiRequest } from './gemini-request';
import { toGeminiResponse } from './gemini-response';
import { GeminiStreamTranslator } from './gemini-stream';

// Gemini's built-in tools at the Gemini edge: asked for in `tools`, carried to the backend
// in provider_extras.gemini_tools; their answer parts and metadata, which a Gemini
// backend's adapter carries in extra_content.google, go back to the client as Gemini's.

const call = { model: 'my-virtual', stream: false };
const text = [{ parts: [{ text: 'Sum the first 3 primes' }] }];
const facts = { model: 'my-virtual', stream: false, includeThoughts: false };
const CODE = { executableCode: { language: 'PYTHON', code: 'print(2 + 3 + 5)' } };
const RESULT = { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '10\n' } };
const GROUNDING = { webSearchQueries: ['primes'], groundingChunks: [{ web: { uri: 'u' } }] };
const URLS = { urlMetadata: [{ retrievedUrl: 'https://example.com' }] };
/** 30 prompt tokens and 25 of the tools', all input to bill. */
const usage: TokenUsage = {
  inputTokens: 55,
  outputTokens: 12,
  cachedInputTokens: 0,
  source: 'reported',
};

function refusedAt(body: JsonObject, pattern: RegExp): void {
  assert.throws(
    () => translateGeminiRequest(body, call),
    (error: unknown) =>
      error instanceof DataPlaneError && error.httpStatus === 400 && pattern.test(error.message),
  );
}

describe('Gemini built-in tools: the request', () => {
  it('carries googleSearch, googleSearchRetrieval, codeExecution and urlContext as sent, beside function declarations', () => {
    const { chat } = translateGeminiRequest(
      {
        contents: text,
        tools: [
          { googleSearch: {} },
          { code_execution: {} }, // proto3 JSON's other spelling
          {
            functionDeclarations: [{ name: 'lookup' }],
            urlContext: {},
          },
          { googleSearchRetrieval: { dynamicRetrievalConfig: { mode: 'MODE_DYNAMIC' } } },
        ],
      },
      call,
    );
    assert.deepEqual((chat.provider_extras as JsonObject).gemini_tools, [
      { googleSearch: {} },
      { codeExecution: {} },
      { urlContext: {} },
      { googleSearchRetrieval: { dynamicRetrievalConfig: { mode: 'MODE_DYNAMIC' } } },
    ]);
    assert.deepEqual(
      (chat.tools as JsonObject[]).map((tool) => (tool.function as JsonObject).name),
      ['lookup'],
    );
  });

  it('leaves provider_extras out without built-in tools', () => {
    const { chat } = translateGeminiRequest(
      { contents: text, tools: [{ functionDeclarations: [{ name: 'lookup' }] }] },
      call,
    );
    assert.equal(chat.provider_extras, undefined);
  });

  it("refuses a tool it does not carry, and a tool's configuration that is not an object, naming the field", () => {
    refusedAt(
      { contents: text, tools: [{ computerUse: {} }] },
      /'tools\[0\]\.computer_use'.*computerUse/,
    );
    refusedAt({ contents: text, tools: [{ googleSearch: true }] }, /'tools\[0\]\.google_search'/);
  });
});

describe('Gemini built-in tools: the answer', () => {
  it('puts the code and its result back between the texts, with the metadata and the tool-use tokens apart', () => {
    const completion = {
      id: 'resp-1',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: {
            role: 'assistant',
            content: 'Let me compute. It is 10.',
            extra_content: {
              google: {
                tool_parts: [
                  { at: 16, part: CODE },
                  { at: 16, part: RESULT },
                ],
                grounding_metadata: GROUNDING,
                url_context_metadata: URLS,
              },
            },
          },
        },
      ],
      usage: {
        prompt_tokens: 55,
        completion_tokens: 12,
        extra_content: { google: { tool_use_prompt_token_count: 25 } },
      },
    };
    const answer = toGeminiResponse(completion, usage, facts, 'req-1');
    const [candidate] = answer.candidates as JsonObject[];
    assert.deepEqual(candidate.content, {
      role: 'model',
      parts: [{ text: 'Let me compute. ' }, CODE, RESULT, { text: 'It is 10.' }],
    });
    assert.deepEqual(candidate.groundingMetadata, GROUNDING);
    assert.deepEqual(candidate.urlContextMetadata, URLS);
    assert.deepEqual(answer.usageMetadata, {
      promptTokenCount: 30,
      toolUsePromptTokenCount: 25,
      candidatesTokenCount: 12,
      totalTokenCount: 67,
    });
  });

  it('relays only the tool parts it knows, whatever else an answer carries there', () => {
    const completion = {
      choices: [
        {
          message: {
            content: 'Hi',
            extra_content: { google: { tool_parts: [{ at: 0, part: { inlineData: {} } }] } },
          },
        },
      ],
    };
    const answer = toGeminiResponse(completion, usage, facts, 'req-1');
    const [candidate] = answer.candidates as JsonObject[];
    assert.deepEqual((candidate.content as JsonObject).parts, [{ text: 'Hi' }]);
    assert.equal((answer.usageMetadata as JsonObject).toolUsePromptTokenCount, undefined);
  });

  it('streams the code and its result where they came, the metadata on its event, and the tool-use tokens in the closing usage', () => {
    const translator = new GeminiStreamTranslator({ ...facts, stream: true }, 'req-1');
    const delta = (value: JsonObject, finish: string | null = null) =>
      translator.push({
        id: 'resp-1',
        choices: [{ index: 0, delta: value, finish_reason: finish }],
      });
    const first = delta({ content: 'Let me compute. ' });
    const code = delta({
      content: '',
      extra_content: {
        google: {
          tool_parts: [
            { at: 0, part: CODE },
            { at: 0, part: RESULT },
          ],
        },
      },
    });
    const last = delta({
      content: 'It is 10.',
      extra_content: { google: { grounding_metadata: GROUNDING } },
    });
    const finished = delta(
      { extra_content: { google: { tool_use_prompt_token_count: 25 } } },
      'stop',
    );
    const partsOf = (events: JsonObject[]) =>
      ((events[0].candidates as JsonObject[])[0].content as JsonObject).parts;
    assert.deepEqual(partsOf(first), [{ text: 'Let me compute. ' }]);
    assert.deepEqual(partsOf(code), [CODE, RESULT]);
    assert.deepEqual(partsOf(last), [{ text: 'It is 10.' }]);
    assert.deepEqual((last[0].candidates as JsonObject[])[0].groundingMetadata, GROUNDING);
    assert.deepEqual(finished, []);
    const [closing] = translator.finish(usage);
    assert.deepEqual(closing.usageMetadata, {
      promptTokenCount: 30,
      toolUsePromptTokenCount: 25,
      candidatesTokenCount: 12,
      totalTokenCount: 67,
    });
  });
});
