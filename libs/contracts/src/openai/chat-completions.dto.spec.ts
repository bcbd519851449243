import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatCompletionRequestDto } from './chat-completions.dto';
import { openAiValidationError } from './openai-error';
import {
  validateChatCompletionRequest,
  validateCompletionRequest,
  validateEmbeddingRequest,
} from './validate-openai-request';

const good = () => ({
  model: 'gpt-4',
  messages: [
    { role: 'developer', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }], name: 'ann' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
  ],
  temperature: 0.2,
  top_p: 1,
  n: 1,
  stream: true,
  stream_options: { include_usage: true },
  stop: ['\n\n'],
  max_tokens: 256,
  max_completion_tokens: 256,
  presence_penalty: 0,
  frequency_penalty: 0.5,
  logit_bias: { '50256': -100 },
  user: 'ann',
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    },
  ],
  tool_choice: 'auto',
  response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' } } },
  seed: 7,
  parallel_tool_calls: false,
  logprobs: true,
  top_logprobs: 2,
  metadata: { team: 'a' },
});

function issuesOf(body: unknown): { path: string; message: string }[] {
  const result = validateChatCompletionRequest(body);
  assert.ok(!result.ok, 'expected the request to be rejected');
  return result.error;
}

describe('chat completion request validation', () => {
  it('accepts a request using every modelled field', () => {
    const result = validateChatCompletionRequest(good());
    assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.error));
    assert.ok(result.value instanceof ChatCompletionRequestDto);
    assert.equal(result.value.messages[3]?.tool_call_id, 'call_1');
  });

  it('passes unknown top-level and nested fields through', () => {
    const body = { ...good(), reasoning_effort: 'low', web_search_options: { size: 'high' } };
    const result = validateChatCompletionRequest(body);
    assert.ok(result.ok);
    assert.equal(result.value.reasoning_effort, 'low');
    assert.deepEqual(result.value.web_search_options, { size: 'high' });
  });

  it('accepts the minimal request', () => {
    assert.ok(
      validateChatCompletionRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).ok,
    );
  });

  it('says the model is missing', () => {
    const { model: _model, ...body } = good();
    const issues = issuesOf(body);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['model'],
    );
    assert.equal(issues[0]?.message, 'model must be a string');
  });

  it('says messages must be an array', () => {
    const issues = issuesOf({ model: 'gpt-4', messages: 'hello' });
    assert.deepEqual(issues, [{ path: 'messages', message: 'messages must be an array' }]);
    assert.match(
      issuesOf({ model: 'gpt-4', messages: [] })[0].message,
      /messages should not be empty/,
    );
  });

  it('names a bad role by its index', () => {
    const body = good();
    body.messages[1].role = 'robot';
    const issues = issuesOf(body);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.path, 'messages[1].role');
    assert.match(
      issues[0].message,
      /^messages\[1\]\.role must be one of the following values: system, developer, user/,
    );
  });

  it('rejects a tool whose type or parameters are wrong', () => {
    const badType = good();
    (badType.tools[0] as { type: string }).type = 'browser';
    assert.match(
      issuesOf(badType)[0].message,
      /^tools\[0\]\.type must be one of the following values: function, custom/,
    );

    const badSchema = good();
    (badSchema.tools[0].function as { parameters: unknown }).parameters = 'object';
    assert.deepEqual(issuesOf(badSchema), [
      {
        path: 'tools[0].function.parameters',
        message: 'tools[0].function.parameters must be a JSON object',
      },
    ]);

    const noFunction = good();
    delete (noFunction.tools[0] as { function?: unknown }).function;
    assert.equal(issuesOf(noFunction)[0]?.path, 'tools[0].function');

    const badName = good();
    badName.tools[0].function.name = 'get weather!';
    assert.match(issuesOf(badName)[0].message, /letters, digits, underscores or dashes/);
  });

  it('checks message content, tool messages and value ranges', () => {
    const noContent = { model: 'm', messages: [{ role: 'user' }] };
    assert.match(
      issuesOf(noContent)[0].message,
      /^messages\[0\]\.content must be a string or an array of content parts/,
    );

    const toolWithoutId = { model: 'm', messages: [{ role: 'tool', content: 'x' }] };
    assert.equal(issuesOf(toolWithoutId)[0]?.path, 'messages[0].tool_call_id');

    const hot = { ...good(), temperature: 3, n: 0, stop: ['a', 'b', 'c', 'd', 'e'] };
    assert.deepEqual(
      issuesOf(hot)
        .map((i) => i.path)
        .sort(),
      ['n', 'stop', 'temperature'],
    );

    assert.equal(
      issuesOf({ ...good(), temperature: '0.2' })[0]?.message,
      'temperature must be a number conforming to the specified constraints',
    );
  });

  it('rejects a body that is not an object', () => {
    assert.deepEqual(issuesOf([1, 2]), [
      { path: '', message: 'expected a JSON object, got an array' },
    ]);
    assert.equal(issuesOf(null)[0]?.message, 'expected a JSON object, got null');
  });

  it('builds an OpenAI error body that names the first bad field', () => {
    const body = openAiValidationError(issuesOf({ messages: 'x' }));
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, 'model');
    assert.match(
      body.error.message,
      /^Invalid request: model must be a string; messages must be an array$/,
    );
  });
});

describe('completions and embeddings request validation', () => {
  it('accepts every documented input shape for embeddings', () => {
    for (const input of ['a', ['a', 'b'], [1, 2, 3], [[1, 2], [3]]]) {
      assert.ok(
        validateEmbeddingRequest({ model: 'text-embedding-3-small', input }).ok,
        JSON.stringify(input),
      );
    }
    const result = validateEmbeddingRequest({
      model: 'e',
      input: 'a',
      encoding_format: 'base64',
      dimensions: 256,
    });
    assert.ok(result.ok);
  });

  it('rejects bad embedding input', () => {
    for (const input of [[], [1, 'a'], { text: 'a' }, undefined]) {
      const result = validateEmbeddingRequest({ model: 'e', input });
      assert.ok(!result.ok, JSON.stringify(input));
      assert.equal(result.error[0]?.path, 'input');
    }
  });

  it('validates legacy completions', () => {
    assert.ok(
      validateCompletionRequest({
        model: 'gpt-3.5-turbo-instruct',
        prompt: 'Say hi',
        max_tokens: 5,
        echo: true,
      }).ok,
    );
    const result = validateCompletionRequest({ model: 'x', prompt: 'p', logprobs: 9 });
    assert.ok(!result.ok);
    assert.equal(result.error[0]?.path, 'logprobs');
  });
});
