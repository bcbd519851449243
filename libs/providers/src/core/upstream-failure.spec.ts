import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataPlaneErrorCode, decodeWireError, encodeWireError } from '@aigw/contracts/data-plane';
import {
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryAfterOf,
  scrubbedUpstreamText,
  upstreamHttpError,
} from './upstream-failure';

test('Retry-After in seconds or as an HTTP date, never negative, at most a day', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7_000);
  assert.equal(parseRetryAfter(['2', '9'], now), 2_000);
  assert.equal(parseRetryAfter('Thu, 03 Dec 2026 12:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Thu, 03 Dec 2026 11:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('-5', now), 0);
  assert.equal(parseRetryAfter('999999999', now), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now), MAX_RETRY_AFTER_MS);
  for (const junk of [undefined, '', 'soon']) assert.equal(parseRetryAfter(junk, now), undefined);
});

test("a provider's text loses key-like strings and its length past 500 characters", () => {
  assert.equal(
    scrubbedUpstreamText('Invalid key sk-proj-abcdefgh12345678 or AIzaSyA1234567890abc.'),
    'Invalid key [REDACTED] or [REDACTED].',
  );
  assert.equal(scrubbedUpstreamText('x'.repeat(10_000)).length, 500);
  assert.equal(scrubbedUpstreamText('Too many tokens.'), 'Too many tokens.');
});

test('retryAfterOf prefers OpenAI and Azure retry-after-ms to the whole seconds of Retry-After', () => {
  assert.equal(retryAfterOf({ 'retry-after-ms': '250', 'retry-after': '1' }), 250);
  assert.equal(retryAfterOf({ 'retry-after-ms': '1500.5' }), 1500.5);
  assert.equal(retryAfterOf({ 'retry-after-ms': '-3' }), 0);
  assert.equal(retryAfterOf({ 'retry-after-ms': '999999999999' }), MAX_RETRY_AFTER_MS);
  assert.equal(retryAfterOf({ 'retry-after-ms': 'soon', 'retry-after': '2' }), 2_000);
  assert.equal(retryAfterOf({ 'retry-after-ms': '', 'retry-after': '3' }), 3_000);
  assert.equal(retryAfterOf({ 'retry-after-ms': ['40', '90'] }), 40);
  assert.equal(retryAfterOf({}), undefined);
});

test("a request the provider refused keeps the provider's own code and param", () => {
  const body = JSON.stringify({
    error: {
      message: "This model's maximum context length is 8192 tokens.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    },
  });
  const error = upstreamHttpError('primary', 400, body, {});
  assert.equal(error.code, DataPlaneErrorCode.UpstreamRejected);
  assert.deepEqual(error.toOpenAiBody().error, {
    message: 'backend "primary" answered 400: This model\'s maximum context length is 8192 tokens.',
    type: 'invalid_request_error',
    code: 'context_length_exceeded',
    param: 'messages',
  });
  // A param naming a nested field passes too.
  const nested = JSON.stringify({ error: { message: 'bad', param: 'tools[0].function.name' } });
  assert.equal(upstreamHttpError('b', 400, nested, {}).param, 'tools[0].function.name');
});

// Azure's 400 for a prompt its content filter blocked: the verdict names the category.
const AZURE_FILTERED = {
  error: {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
    innererror: {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_result: {
        hate: { filtered: false, severity: 'safe' },
        jailbreak: { filtered: true, detected: true },
        violence: { filtered: true, severity: 'medium' },
        custom_blocklists: { filtered: false, details: [{ filtered: false, id: 'team-list' }] },
      },
    },
  },
};

test("Azure's content-filter refusal keeps its verdict, for OpenAI bodies and in words", () => {
  const error = upstreamHttpError('azure', 400, JSON.stringify(AZURE_FILTERED), {});
  assert.equal(error.code, DataPlaneErrorCode.UpstreamRejected);
  const body = error.toOpenAiBody().error;
  assert.equal(body.code, 'content_filter');
  assert.deepEqual(body.innererror, AZURE_FILTERED.error.innererror);
  assert.equal(
    body.message,
    'backend "azure" answered 400: The response was filtered due to the prompt triggering ' +
      "Azure OpenAI's content management policy. (filtered: jailbreak, violence (medium))",
  );
  // It crosses the internal hop of a split deployment whole.
  assert.deepEqual(
    decodeWireError(encodeWireError(error), 400).toOpenAiBody(),
    error.toOpenAiBody(),
  );
});

test("Azure's image refusal keeps its inner_error under that name, content_filter_results read", () => {
  const inner = {
    code: 'ResponsibleAIPolicyViolation',
    content_filter_results: {
      sexual: { filtered: true, severity: 'high' },
      violence: { filtered: false, severity: 'safe' },
    },
    revised_prompt: 'A cat on a beach',
  };
  const body = {
    error: {
      code: 'content_policy_violation',
      inner_error: inner,
      message: 'Your request was rejected as a result of our safety system.',
      type: 'invalid_request_error',
    },
  };
  const error = upstreamHttpError('azure-images', 400, JSON.stringify(body), {});
  const sent = error.toOpenAiBody().error;
  assert.equal(sent.code, 'content_policy_violation');
  assert.deepEqual(sent.inner_error, inner);
  assert.equal(sent.innererror, undefined);
  assert.match(sent.message, /safety system\. \(filtered: sexual \(high\)\)$/);
  assert.deepEqual(
    decodeWireError(encodeWireError(error), 400).toOpenAiBody(),
    error.toOpenAiBody(),
  );
});

test("an innererror keeps no secret, nothing unbounded, and no backend trouble's detail", () => {
  const key = 'c0ffee00c0ffee00c0ffee00c0ffee00';
  const body = (status: number) =>
    upstreamHttpError(
      'azure',
      status,
      JSON.stringify({
        error: {
          message: 'filtered',
          code: 'content_filter',
          innererror: {
            code: 'ResponsibleAIPolicyViolation',
            echoed: `key ${key}`,
            long: 'x'.repeat(500),
            'bad key': true,
            // A key-like field name is left out as a key-like value is redacted.
            [key]: true,
            sk_live_abcdefgh12345678: { filtered: true },
            nested: { a: { b: { c: { d: { e: 'too deep' } } } } },
            content_filter_result: { sexual: { filtered: true, severity: 'high' } },
          },
        },
      }),
      {},
      { reveal: () => key },
    );
  const inner = body(400).innerError;
  assert.deepEqual(inner, {
    code: 'ResponsibleAIPolicyViolation',
    echoed: 'key [REDACTED]',
    nested: { a: { b: { c: {} } } },
    content_filter_result: { sexual: { filtered: true, severity: 'high' } },
  });
  // A refused credential or a rate limit is the gateway's trouble: no detail reaches a client.
  for (const status of [401, 429, 500]) assert.equal(body(status).innerError, undefined);
});

test('a refused credential, a quota or junk passes on no provider code', () => {
  const body = (code: unknown) => JSON.stringify({ error: { message: 'no', code } });
  // The gateway's own key or account: the client must not read it as its own.
  const credential = upstreamHttpError('b', 401, body('invalid_api_key'), {});
  assert.equal(credential.upstreamCode, undefined);
  assert.equal(credential.toOpenAiBody().error.code, DataPlaneErrorCode.UpstreamError);
  const quota = upstreamHttpError('b', 429, body('insufficient_quota'), {});
  assert.equal(quota.toOpenAiBody().error.code, 'rate_limit_exceeded');
  for (const junk of [400, 'two words', 'x'.repeat(65), '', null]) {
    assert.equal(upstreamHttpError('b', 400, body(junk), {}).upstreamCode, undefined);
  }
});

// OpenAI answers a request that alone exceeds the plan's tokens per minute with a 429 coded
// rate_limit_exceeded, as it does a backend at its limit; only the words differ. The former
// says nothing of the backend's load, so (as Groq's 413) it must not cool the backend down.
test("OpenAI's 429 for a request too large for the plan is a refusal of its size alone", () => {
  const openAi = (message: string, code = 'rate_limit_exceeded') =>
    JSON.stringify({ error: { message, type: 'tokens', param: null, code } });
  const tooLarge = upstreamHttpError(
    'openai',
    429,
    openAi(
      'Request too large for gpt-4o in organization org-abcdefgh12345678 on tokens per min (TPM): Limit 30000, Requested 50000. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.',
    ),
    { 'retry-after': '20' },
  );
  assert.equal(tooLarge.code, DataPlaneErrorCode.UpstreamRateLimited);
  assert.equal(tooLarge.trigger, 'rateLimit');
  assert.equal(tooLarge.refusedForSize, true);
  assert.equal(tooLarge.toOpenAiBody().error.code, 'rate_limit_exceeded');
  // So it stays across the router's hop to the provider-adapter.
  assert.equal(decodeWireError(encodeWireError(tooLarge), 429).refusedForSize, true);

  const atLimit = upstreamHttpError(
    'openai',
    429,
    openAi(
      'Rate limit reached for gpt-4o in organization org-abcdefgh12345678 on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.',
    ),
    {},
  );
  assert.equal(atLimit.refusedForSize, false);
  // The words alone, with another code (an exhausted quota), are no refusal of the size.
  const quota = upstreamHttpError(
    'openai',
    429,
    openAi('Request too large', 'insufficient_quota'),
    {},
  );
  assert.equal(quota.refusedForSize, false);
  assert.equal(quota.upstreamCode, undefined);
  // A backend failing (5xx) under that code is still the gateway's error, not a rate limit.
  const failing = upstreamHttpError('openai', 503, openAi('Request too large'), {});
  assert.equal(failing.toOpenAiBody().error.code, DataPlaneErrorCode.UpstreamError);
});

test("a backend account out of funds (402) is the gateway's trouble with that backend: it fails over", () => {
  // DeepSeek's "402 - Insufficient Balance" (Mistral, Cohere and others answer 402 the same
  // way): a 400-class rejection went back to the client as if its request were wrong,
  // without trying the next backend.
  const body = JSON.stringify({
    error: { message: 'Insufficient Balance', code: 'invalid_request_error' },
  });
  const unpaid = upstreamHttpError('deepseek', 402, body, {});
  assert.equal(unpaid.code, DataPlaneErrorCode.UpstreamError);
  assert.equal(unpaid.upstreamCode, undefined);
});

// Gemini and Vertex answer a 429 with no Retry-After header: the wait is the body's
// google.rpc.RetryInfo (`"retryDelay": "38s"`, a protobuf Duration).
test("a Google 429's RetryInfo retryDelay is its wait, when no header says one", () => {
  const google = (retryDelay: unknown) =>
    JSON.stringify({
      error: {
        code: 429,
        message: 'You exceeded your current quota. Please retry in 37.6s.',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
        ],
      },
    });
  const waitOf = (body: string, headers: Record<string, string> = {}) =>
    upstreamHttpError('gemini', 429, body, headers).retryAfterMs;
  assert.equal(waitOf(google('38s')), 38_000);
  assert.equal(waitOf(google('0.250s')), 250);
  assert.equal(waitOf(google('99999999s')), MAX_RETRY_AFTER_MS);
  // A header says it first; anything else in the body is no wait.
  assert.equal(waitOf(google('38s'), { 'retry-after': '5' }), 5_000);
  for (const junk of ['soon', '-3s', 38, null]) assert.equal(waitOf(google(junk)), undefined);
  assert.equal(waitOf('{"error": {"details": "x"}}'), undefined);
  assert.equal(waitOf('not json'), undefined);
  // A streamed call's refusal (streamGenerateContent) comes as a list of one error.
  assert.equal(waitOf(`[${google('38s')}]`), 38_000);
});

// Google wraps a streamed call's refusal (streamGenerateContent) in a list of one error.
test("a Google error in a list of one is read for its message, as an object's is", () => {
  const error = upstreamHttpError(
    'vertex-eu',
    429,
    '[{"error": {"code": 429, "message": "Resource exhausted. Please try again later.", "status": "RESOURCE_EXHAUSTED"}}]',
    {},
  );
  assert.equal(
    error.message,
    'backend "vertex-eu" answered 429: Resource exhausted. Please try again later.',
  );
});
