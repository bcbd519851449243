import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  TEXT_OR_TOKENS_EXPECTED,
} from '@aigw/contracts/data-plane';
import { buildGatewayRequest } from './request-builder';

const context = {
  requestId: 'r',
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
};
const chat = (model: string) =>
  buildGatewayRequest('chat', { model, messages: [{ role: 'user', content: 'hi' }] }, context);

test('a model name of 256 characters is taken and one of 257 refused, as events carry 256', () => {
  assert.equal(chat('m'.repeat(256)).requestedModel.length, 256);
  assert.throws(
    () => chat('m'.repeat(257)),
    (error: unknown) =>
      error instanceof DataPlaneError &&
      error.code === DataPlaneErrorCode.InvalidRequest &&
      error.param === 'model' &&
      error.message === "'model' must be at most 256 characters",
  );
});

test("'stream' must be a boolean when it is there, so a stream asked for is never answered as JSON", () => {
  const withStream = (stream: unknown) =>
    buildGatewayRequest(
      'chat',
      { model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] },
      context,
    );
  assert.equal(withStream(true).stream, true);
  assert.equal(withStream(false).stream, false);
  assert.equal(withStream(null).stream, false);
  for (const odd of ['true', 1, {}]) {
    assert.throws(
      () => withStream(odd),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'stream',
    );
  }
});

test('the counts a budget hold is sized by must be whole numbers when sent', () => {
  const withField = (operation: 'chat' | 'completions', field: string, value: unknown) =>
    buildGatewayRequest(
      operation,
      operation === 'chat'
        ? { model: 'm', messages: [{ role: 'user', content: 'hi' }], [field]: value }
        : { model: 'm', prompt: 'hi', [field]: value },
      context,
    );
  for (const [field, least] of [
    ['max_tokens', 0],
    ['max_completion_tokens', 0],
    ['n', 1],
    ['best_of', 1],
  ] as const) {
    assert.equal(withField('chat', field, least).body[field], least);
    assert.equal(withField('completions', field, null).body[field], null);
    for (const odd of [least - 1, 2.5, '16', true, 2 ** 53]) {
      assert.throws(
        () => withField('completions', field, odd),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === field &&
          error.message === `'${field}' must be a whole number of at least ${least}`,
        `${field}: ${String(odd)}`,
      );
    }
  }
  // Each choice is generated and written out: the counts of choices have OpenAI's ceilings.
  for (const [field, most] of [
    ['n', 128],
    ['best_of', 20],
  ] as const) {
    assert.equal(withField('chat', field, most).body[field], most);
    assert.throws(
      () => withField('chat', field, most + 1),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.param === field &&
        error.message === `'${field}' must be at most ${most}`,
      field,
    );
  }
  // Embeddings take none of them: left to the backend.
  assert.equal(
    buildGatewayRequest('embeddings', { model: 'm', input: 'hi', n: 'x' }, context).body.n,
    'x',
  );
});

test("a chat request's reasoning_effort must be a string and its thinking one the gateway knows", () => {
  const withReasoning = (fields: Record<string, unknown>) =>
    buildGatewayRequest(
      'chat',
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...fields },
      context,
    );
  // Any effort string passes: OpenAI backends check their own values.
  for (const effort of ['low', 'xhigh', null]) {
    assert.equal(withReasoning({ reasoning_effort: effort }).body.reasoning_effort, effort);
  }
  const budget = { type: 'enabled', budget_tokens: 1024 };
  assert.deepEqual(withReasoning({ thinking: budget }).body.thinking, budget);
  assert.deepEqual(withReasoning({ thinking: { type: 'disabled' } }).body.thinking, {
    type: 'disabled',
  });
  // Adaptive thinking (Claude 4.6 and later), with its display.
  const adaptive = { type: 'adaptive', display: 'summarized' };
  assert.deepEqual(withReasoning({ thinking: adaptive }).body.thinking, adaptive);
  const refused = (param: string, fields: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => withReasoning(fields),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === param &&
        message.test(error.message),
      JSON.stringify(fields),
    );
  for (const effort of [1, true, ['low'], { effort: 'low' }]) {
    refused(
      'reasoning_effort',
      { reasoning_effort: effort },
      /^'reasoning_effort' must be a string$/,
    );
  }
  for (const thinking of [
    true,
    'enabled',
    { type: 'enabled', budget_tokens: 1023 },
    { type: 'enabled', budget_tokens: 2048.5 },
    { type: 'enabled', budget_tokens: '2048' },
    { type: 'auto' },
  ]) {
    refused('thinking', { thinking }, /^'thinking' must be .*at least 1024/);
  }
  // A display Anthropic does not know is named as the fault, whatever thinking it is on.
  for (const thinking of [
    { type: 'adaptive', display: 'full' },
    { type: 'enabled', budget_tokens: 2048, display: 'Summarized' },
  ]) {
    refused(
      'thinking.display',
      { thinking },
      /^'thinking.display' must be "summarized" or "omitted"$/,
    );
  }
});

test('a chat thinking enabled without a budget (DeepSeek, GLM, Kimi clients) is adaptive thinking, shown unless the client chose', () => {
  const thinkingOf = (thinking: unknown) =>
    buildGatewayRequest(
      'chat',
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], thinking },
      context,
    ).body.thinking;
  assert.deepEqual(thinkingOf({ type: 'enabled' }), { type: 'adaptive', display: 'summarized' });
  assert.deepEqual(thinkingOf({ type: 'enabled', budget_tokens: null }), {
    type: 'adaptive',
    display: 'summarized',
  });
  assert.deepEqual(thinkingOf({ type: 'enabled', display: 'omitted' }), {
    type: 'adaptive',
    display: 'omitted',
  });
  // A budget keeps its meaning, and a display Anthropic does not know is still named.
  assert.deepEqual(thinkingOf({ type: 'enabled', budget_tokens: 2048 }), {
    type: 'enabled',
    budget_tokens: 2048,
  });
  assert.throws(
    () => thinkingOf({ type: 'enabled', display: 'full' }),
    (error: unknown) => error instanceof DataPlaneError && error.param === 'thinking.display',
  );
});

test('speech is a stream whatever the body says (its audio is relayed as it comes); a transcription is not', () => {
  const speech = buildGatewayRequest(
    'speech',
    { model: 'tts-1', voice: 'alloy', input: 'hi' },
    context,
  );
  assert.equal(speech.stream, true);
  assert.equal(speech.clientWantsStreamUsage, false);
  assert.equal(
    buildGatewayRequest('transcriptions', { model: 'whisper-1' }, context).stream,
    false,
  );
});

test("an embeddings input is refused at the edge by the wire's own rule and message", () => {
  const embed = (input: unknown) =>
    buildGatewayRequest(
      'embeddings',
      { model: 'm', ...(input === undefined ? {} : { input }) },
      context,
    );
  for (const input of ['a', ['a', 'b'], [1, 2], [[1], [2, 3]]]) {
    assert.deepEqual(embed(input).body.input, input);
  }
  const refused = (message: string) => (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.param === 'input' &&
    error.message === message;
  for (const input of [[['123-45-6789']], { text: 'a' }, [], null, 7]) {
    assert.throws(() => embed(input), refused(`input must be ${TEXT_OR_TOKENS_EXPECTED}`));
  }
  assert.throws(() => embed(undefined), refused("'input' is required"));
});

test("an embeddings encoding_format other than float or base64 is a 400 naming it, in OpenAI's words", () => {
  const embed = (encoding_format: unknown) =>
    buildGatewayRequest('embeddings', { model: 'm', input: 'hi', encoding_format }, context);
  for (const format of ['float', 'base64', null, undefined]) {
    assert.equal(embed(format).body.encoding_format, format);
  }
  const refused = (shown: string) => (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.param === 'encoding_format' &&
    error.message ===
      `Invalid value for 'encoding_format' = ${shown}. Supported values: ['float', 'base64'].`;
  assert.throws(() => embed('md5'), refused('md5'));
  assert.throws(() => embed('Float'), refused('Float'));
  assert.throws(() => embed(''), refused(''));
  assert.throws(() => embed(['base64']), refused('["base64"]'));
  assert.throws(() => embed(7), refused('7'));
  assert.throws(() => embed('x'.repeat(1000)), refused('x'.repeat(64)));
});
