import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { encodeReasoning } from '../../responses/domain/encrypted-reasoning';
import { jsonSchemaOf, translateGeminiRequest } from './gemini-request';

const call = { model: 'my-virtual', stream: false };

function chatOf(body: unknown, stream = false) {
  return translateGeminiRequest(body, { ...call, stream }).chat;
}

/** A schema whose root is not an object, as every backend is asked for it (gemini-json-root). */
function asObjectProperty(schema: unknown) {
  return {
    type: 'object',
    properties: { value: schema },
    required: ['value'],
    additionalProperties: false,
  };
}

function refusal(body: unknown, field: RegExp): void {
  assert.throws(
    () => translateGeminiRequest(body, call),
    (error: unknown) =>
      error instanceof DataPlaneError && error.httpStatus === 400 && field.test(error.message),
  );
}

describe('Gemini request translation', () => {
  it('takes the model from the URL and a lone text as a plain user message', () => {
    const { chat, facts } = translateGeminiRequest(
      { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] },
      { model: 'my-virtual', stream: true },
    );
    assert.deepEqual(chat, {
      model: 'my-virtual',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      // The usage chunk holds the thinking tokens thoughtsTokenCount reports.
      stream_options: { include_usage: true },
    });
    assert.deepEqual(facts, { model: 'my-virtual', stream: true, includeThoughts: false });
  });

  it('puts systemInstruction first and keeps a multi-turn conversation in order', () => {
    const chat = chatOf({
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Be kind.' }] },
      contents: [
        { parts: [{ text: 'Hello' }] }, // no role: a user turn
        { role: 'model', parts: [{ text: 'Hi, ' }, { text: 'there.' }] },
        { role: 'user', parts: [{ text: 'Bye' }] },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'system', content: 'Be brief.\n\nBe kind.' },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi, there.' },
      { role: 'user', content: 'Bye' },
    ]);
  });

  it('makes inlineData images data URLs, PDFs files and drops thought and signature-only parts of model turns', () => {
    const chat = chatOf({
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is this?' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { text: 'pondering', thought: true },
            { text: 'A cat.' },
            { thoughtSignature: 'c2ln' }, // a part with only a signature, as Gemini 3 sends
          ],
        },
      ],
    });
    assert.deepEqual(chat.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
        ],
      },
      { role: 'assistant', content: 'A cat.' },
    ]);
  });

  it('turns function calls into tool calls and function responses into tool messages', () => {
    const chat = chatOf({
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
        {
          role: 'model',
          parts: [
            {
              functionCall: { name: 'weather', args: { city: 'Paris' } },
              thoughtSignature: 'sig1',
            },
            { functionCall: { id: 'c-rome', name: 'weather', args: { city: 'Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { id: 'c-rome', name: 'weather', response: { temp: 20 } } },
            { functionResponse: { name: 'weather', response: { temp: 15 } } },
          ],
        },
      ],
      tools: [
        {
          functionDeclarations: [
            {
              name: 'weather',
              description: 'The weather',
              parameters: {
                type: 'OBJECT',
                properties: { city: { type: 'STRING', nullable: true } },
                required: ['city'],
              },
            },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['weather'] } },
    });
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_gemini_0',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
            extra_content: { google: { thought_signature: 'sig1' } },
          },
          {
            id: 'c-rome',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
      // By id when it has one, else the first call waiting with that name.
      { role: 'tool', tool_call_id: 'c-rome', content: '{"temp":20}' },
      { role: 'tool', tool_call_id: 'call_gemini_0', content: '{"temp":15}' },
    ]);
    assert.deepEqual(chat.tools, [
      {
        type: 'function',
        function: {
          name: 'weather',
          parameters: {
            type: 'object',
            properties: { city: { type: ['string', 'null'] } },
            required: ['city'],
          },
          description: 'The weather',
        },
      },
    ]);
    assert.deepEqual(chat.tool_choice, { type: 'function', function: { name: 'weather' } });
  });

  it('offers only the allowedFunctionNames in VALIDATED mode, as ANY does, the model free to answer in text', () => {
    const declared = ['weather', 'time', 'news'].map((name) => ({ name }));
    const body = (allowedFunctionNames: string[]) => ({
      contents: [{ parts: [{ text: 'hi' }] }],
      tools: [{ functionDeclarations: declared }],
      toolConfig: { functionCallingConfig: { mode: 'VALIDATED', allowedFunctionNames } },
    });
    const narrowed = chatOf(body(['time', 'news']));
    assert.deepEqual(
      (narrowed.tools as { function: { name: string } }[]).map((tool) => tool.function.name),
      ['time', 'news'],
    );
    assert.equal(narrowed.tool_choice, 'auto');
    assert.equal((chatOf(body([])).tools as unknown[]).length, 3);
    refusal(body(['weather', 'sports']), /allowed_function_names.*'sports'/);
  });

  it("sends a model turn's code run by codeExecution back as the turn's text, so a chat goes on", () => {
    const chat = chatOf({
      contents: [
        { role: 'user', parts: [{ text: 'Sum the first 3 primes' }] },
        {
          role: 'model',
          parts: [
            { text: 'Let me compute it.' },
            { executableCode: { language: 'PYTHON', code: 'print(2 + 3 + 5)' } },
            { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '10\n' } },
            { text: 'The sum is 10.' },
            { executableCode: { language: 'PYTHON', code: '1/0' } },
            { codeExecutionResult: { outcome: 'OUTCOME_FAILED', output: 'ZeroDivisionError' } },
          ],
        },
        { role: 'user', parts: [{ text: 'Now the first 4' }] },
      ],
      tools: [{ codeExecution: {} }],
    });
    assert.deepEqual((chat.messages as JsonObject[])[1], {
      role: 'assistant',
      content:
        'Let me compute it.\n```python\nprint(2 + 3 + 5)\n```\n\n```output\n10\n```\nThe sum is 10.' +
        '\n```python\n1/0\n```\n\n```output OUTCOME_FAILED\nZeroDivisionError\n```\n',
    });
    refusal(
      {
        contents: [{ role: 'model', parts: [{ executableCode: { language: 'PYTHON' } }] }],
      },
      /contents\[0\]\.parts\[0\]\.executable_code\.code/,
    );
  });

  it("sends the images a function response carries in its parts after the tool's result, as user content", () => {
    const chat = chatOf({
      contents: [
        { role: 'user', parts: [{ text: 'Show me the chart' }] },
        { role: 'model', parts: [{ functionCall: { name: 'chart', args: {} } }] },
        {
          role: 'user',
          parts: [
            {
              functionResponse: {
                name: 'chart',
                response: { drawn: true },
                parts: [
                  { inlineData: { mimeType: 'image/png', data: 'iVBORw0K', displayName: 'c.png' } },
                ],
              },
            },
          ],
        },
      ],
    });
    assert.deepEqual((chat.messages as JsonObject[]).slice(2), [
      { role: 'tool', tool_call_id: 'call_gemini_0', content: '{"drawn":true}' },
      {
        role: 'user',
        content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K' } }],
      },
    ]);
    refusal(
      {
        contents: [
          { role: 'model', parts: [{ functionCall: { name: 'chart' } }] },
          {
            parts: [{ functionResponse: { name: 'chart', response: {}, parts: [{ text: 'x' }] } }],
          },
        ],
      },
      /contents\[1\]\.parts\[0\]\.function_response\.parts\[0\]/,
    );
  });

  it('refuses a function response that answers no call', () => {
    refusal(
      {
        contents: [{ role: 'user', parts: [{ functionResponse: { name: 'x', response: {} } }] }],
      },
      /functionCall to 'x'/,
    );
  });

  it('maps generationConfig, JSON mode with a schema and thinking', () => {
    const { chat, facts } = translateGeminiRequest(
      {
        contents: [{ parts: [{ text: 'List two colours' }] }],
        safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
        generationConfig: {
          temperature: 0.2,
          topP: 0.9,
          topK: 40,
          maxOutputTokens: 4000,
          stopSequences: ['END'],
          candidateCount: 1,
          responseMimeType: 'application/json',
          responseSchema: { type: 'ARRAY', items: { type: 'STRING' } },
          thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
        },
      },
      call,
    );
    assert.deepEqual(chat, {
      model: 'my-virtual',
      messages: [{ role: 'user', content: 'List two colours' }],
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 4000,
      stop: ['END'],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'response',
          schema: asObjectProperty({ type: 'array', items: { type: 'string' } }),
        },
      },
      thinking: { type: 'enabled', budget_tokens: 2048 },
      // For the backends that take them as they came (Gemini, Vertex; Claude takes top_k).
      provider_extras: {
        top_k: 40,
        safety_settings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
      },
    });
    assert.equal(facts.includeThoughts, true);
    assert.deepEqual(
      chatOf({
        contents: [{ parts: [{ text: 'x' }] }],
        generationConfig: { responseMimeType: 'application/json' },
      }).response_format,
      { type: 'json_object' },
    );
    const levels = chatOf({
      contents: [{ parts: [{ text: 'x' }] }],
      generationConfig: { thinkingConfig: { thinkingLevel: 'LOW' } },
    });
    assert.equal(levels.reasoning_effort, 'low');
    const off = chatOf({
      contents: [{ parts: [{ text: 'x' }] }],
      generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
    });
    assert.deepEqual(off.thinking, { type: 'disabled' });
    // Dynamic thinking: its thoughts asked summarized when the client wants them shown.
    const dynamic = (includeThoughts?: boolean) =>
      chatOf({
        contents: [{ parts: [{ text: 'x' }] }],
        generationConfig: { thinkingConfig: { thinkingBudget: -1, includeThoughts } },
      }).thinking;
    assert.deepEqual(dynamic(true), { type: 'adaptive', display: 'summarized' });
    assert.deepEqual(dynamic(false), { type: 'adaptive' });
    assert.deepEqual(dynamic(), { type: 'adaptive' });
  });

  it('asks for candidateCount choices (n), plain and streamed', () => {
    const text = [{ parts: [{ text: 'x' }] }];
    assert.equal(chatOf({ contents: text, generationConfig: { candidateCount: 3 } }).n, 3);
    assert.equal(chatOf({ contents: text, generationConfig: { candidateCount: 1 } }).n, undefined);
    const streamed = chatOf({ contents: text, generationConfig: { candidateCount: 2 } }, true);
    assert.equal(streamed.n, 2);
    assert.equal(streamed.stream, true);
    refusal({ contents: text, generationConfig: { candidateCount: 0 } }, /candidate_count/);
    refusal({ contents: text, generationConfig: { candidateCount: 1.5 } }, /candidate_count/);
    // Each candidate is generated and written out: a million would be an answer of any size.
    assert.equal(chatOf({ contents: text, generationConfig: { candidateCount: 128 } }).n, 128);
    refusal({ contents: text, generationConfig: { candidateCount: 129 } }, /from 1 to 128/);
  });

  it('leaves provider_extras out when no topK or safetySettings is sent, and checks them', () => {
    const text = [{ parts: [{ text: 'x' }] }];
    const plain = chatOf({ contents: text, safetySettings: [], generationConfig: {} });
    assert.equal(plain.provider_extras, undefined);
    assert.deepEqual(chatOf({ contents: text, generationConfig: { topK: 1 } }).provider_extras, {
      top_k: 1,
    });
    refusal({ contents: text, safetySettings: ['BLOCK_NONE'] }, /safety_settings\[0\]/);
    refusal({ contents: text, safetySettings: {} }, /'safety_settings'/);
    refusal({ contents: text, generationConfig: { topK: -1 } }, /top_k/);
    refusal({ contents: text, generationConfig: { topK: '40' } }, /top_k/);
  });

  it("refuses a topK that is not a whole number as Google does (int32), naming the client's field", () => {
    // Otherwise it went on as provider_extras.top_k, and a Cohere backend's refusal named
    // that field, which a Gemini client never sent.
    const text = [{ parts: [{ text: 'x' }] }];
    refusal(
      { contents: text, generationConfig: { topK: 3.5 } },
      /generation_config\.top_k.*whole number/,
    );
    assert.deepEqual(chatOf({ contents: text, generationConfig: { topK: 0 } }).provider_extras, {
      top_k: 0,
    });
  });

  it('refuses what it cannot serve, naming the field', () => {
    const text = [{ parts: [{ text: 'x' }] }];
    refusal({ contents: [] }, /'contents'/);
    refusal({ contents: text, tools: [{ googleMaps: {} }] }, /tools\[0\]\.google_maps.*googleMaps/);
    refusal({ contents: text, generationConfig: { responseMimeType: 'text/x.enum' } }, /mime/);
    refusal({ contents: [{ role: 'system', parts: [{ text: 'x' }] }] }, /role/);
    refusal(
      { contents: [{ parts: [{ inlineData: { mimeType: 'video/mp4', data: 'AAAA' } }] }] },
      /video\/mp4/,
    );
    refusal({ contents: text, cachedContent: 'cachedContents/1' }, /cached_content/);
  });

  it('rewrites nested OpenAPI schemas as JSON Schema', () => {
    assert.deepEqual(
      jsonSchemaOf({
        type: 'OBJECT',
        propertyOrdering: ['a'],
        properties: { a: { type: 'ARRAY', items: { anyOf: [{ type: 'INTEGER' }] } } },
      }),
      {
        type: 'object',
        properties: { a: { type: 'array', items: { anyOf: [{ type: 'integer' }] } } },
      },
    );
  });

  it("gives Google's int64 schema bounds (sent as strings, as @google/genai types them) as JSON Schema's numbers", () => {
    const schema = {
      type: 'ARRAY',
      minItems: '1',
      maxItems: '5',
      items: {
        type: 'OBJECT',
        minProperties: '1',
        maxProperties: 3,
        properties: { name: { type: 'STRING', minLength: '2', maxLength: '20' } },
      },
    };
    const wanted = {
      type: 'array',
      minItems: 1,
      maxItems: 5,
      items: {
        type: 'object',
        minProperties: 1,
        maxProperties: 3,
        properties: { name: { type: 'string', minLength: 2, maxLength: 20 } },
      },
    };
    const chat = chatOf({
      contents: [{ parts: [{ text: 'hi' }] }],
      tools: [
        {
          functionDeclarations: [
            { name: 'pick', parameters: { type: 'OBJECT', properties: { names: schema } } },
          ],
        },
      ],
      generationConfig: { responseMimeType: 'application/json', responseSchema: schema },
    });
    assert.deepEqual(chat.response_format, {
      type: 'json_schema',
      json_schema: { name: 'response', schema: asObjectProperty(wanted) },
    });
    const [tool] = chat.tools as { function: { parameters: unknown } }[];
    assert.deepEqual(tool?.function.parameters, {
      type: 'object',
      properties: { names: wanted },
    });
    refusal(
      {
        contents: [{ parts: [{ text: 'hi' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: { type: 'ARRAY', items: { type: 'STRING', maxLength: 'twenty' } },
        },
      },
      /generation_config\.response_schema\.items\.max_length/,
    );
  });

  it('refuses an int64 bound that is a negative or fractional number, and leaves out a null one', () => {
    const withBound = (maxItems: unknown) => ({
      contents: [{ parts: [{ text: 'hi' }] }],
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: { type: 'ARRAY', items: { type: 'STRING' }, maxItems },
      },
    });
    refusal(withBound(-1), /generation_config\.response_schema\.max_items/);
    refusal(withBound(2.5), /generation_config\.response_schema\.max_items/);
    // proto3 JSON reads null as the field left unset, as Google's API does.
    assert.deepEqual(chatOf(withBound(null)).response_format, {
      type: 'json_schema',
      json_schema: {
        name: 'response',
        schema: asObjectProperty({ type: 'array', items: { type: 'string' } }),
      },
    });
  });

  it("gives a numeric enum, which Google's Schema writes as strings, as JSON Schema's numbers", () => {
    assert.deepEqual(
      jsonSchemaOf({
        type: 'OBJECT',
        properties: {
          flat: { type: 'INTEGER', format: 'enum', enum: ['101', '201'] },
          size: { type: 'NUMBER', enum: ['0.5', '1'] },
          name: { type: 'STRING', enum: ['101'] },
        },
      }),
      {
        type: 'object',
        properties: {
          flat: { type: 'integer', format: 'enum', enum: [101, 201] },
          size: { type: 'number', enum: [0.5, 1] },
          name: { type: 'string', enum: ['101'] },
        },
      },
    );
  });

  it("gives back a backend's signed thinking blocks carried in the gateway's thoughtSignature", () => {
    const blocks = [{ type: 'thinking' as const, thinking: 'plan', signature: 'sig-claude' }];
    const chat = chatOf({
      contents: [
        { role: 'user', parts: [{ text: 'Weather?' }] },
        {
          role: 'model',
          parts: [
            { text: 'plan', thought: true },
            {
              functionCall: { id: 'toolu_1', name: 'weather', args: {} },
              thoughtSignature: encodeReasoning(blocks),
            },
          ],
        },
        {
          role: 'user',
          parts: [{ functionResponse: { id: 'toolu_1', name: 'weather', response: {} } }],
        },
      ],
    });
    const assistant = (chat.messages as Record<string, unknown>[])[1];
    assert.deepEqual(assistant.thinking_blocks, blocks);
    const call = (assistant.tool_calls as Record<string, unknown>[])[0];
    assert.equal(call.extra_content, undefined, 'not passed on as a Gemini signature');
  });
});
