// security.promptValidation on a legacy completion and a rerank: every text field the model
// reads is held to blockPatterns and block rules, and a refusal names that field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type Operation,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';

const SSN = '123-45-6789';
const IBAN = 'GB82 WEST 1234 5698 7654 32';

function load(): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends: [{name: p, provider: local, model: private}]
  security:
    promptValidation:
      enabled: true
      blockPatterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b']
      redact: {detectors: [email, {name: iban, mode: block}]}
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('unused')),
  listModels: () => [],
};
const pipeline = new IngressPipeline(() => load(), router, {});

const prepare = (operation: Operation, fields: JsonObject) =>
  pipeline.prepare(operation, { model: 'private', ...fields }, {}, 'r') as GatewayRequest;
/** prepare, then the redaction the edge applies once the body is whole. */
const redacted = (operation: Operation, fields: JsonObject) =>
  pipeline.redact(prepare(operation, fields), () => undefined);

/** PromptBlocked (a 400) naming `rule` and `param`, never the text it matched. */
function blockedBy(rule: RegExp, param: string, secret: string) {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.equal(error.code, DataPlaneErrorCode.PromptBlocked);
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, rule);
    assert.equal(error.param, param);
    assert.ok(!error.message.includes(secret), error.message);
    return true;
  };
}
const BLOCK_PATTERN = /blockPatterns\[0\]$/;
const IBAN_RULE = /iban/;

describe('prompt rules on a completion', () => {
  it('refuses a blocked prompt naming prompt, and a blocked suffix naming suffix', () => {
    assert.throws(
      () => prepare('completions', { prompt: `ssn ${SSN}` }),
      blockedBy(BLOCK_PATTERN, 'prompt', SSN),
    );
    assert.throws(
      () => prepare('completions', { prompt: ['clean', `ssn ${SSN}`] }),
      blockedBy(BLOCK_PATTERN, 'prompt', SSN),
    );
    // The suffix is sent on with the prompt: a pattern in it is as much a leak.
    assert.throws(
      () => prepare('completions', { prompt: 'def f():', suffix: `# ssn ${SSN}` }),
      blockedBy(BLOCK_PATTERN, 'suffix', SSN),
    );
  });

  it('refuses a block rule match naming the field it was in', () => {
    assert.throws(
      () => redacted('completions', { prompt: 'ok', suffix: `pay ${IBAN}` }),
      blockedBy(IBAN_RULE, 'suffix', IBAN),
    );
    assert.throws(
      () => redacted('completions', { prompt: `pay ${IBAN}` }),
      blockedBy(IBAN_RULE, 'prompt', IBAN),
    );
  });

  it('passes clean text, masking what the redact rules mask', () => {
    const request = redacted('completions', { prompt: 'write to jane@example.com', suffix: 'end' });
    assert.equal(request.body.prompt, 'write to [REDACTED:email]');
    assert.equal(request.body.suffix, 'end');
  });
});

describe('prompt rules on a rerank', () => {
  it('names the query or the documents a block rule matched in', () => {
    assert.throws(
      () => redacted('rerank', { query: `pay ${IBAN}`, documents: ['a'] }),
      blockedBy(IBAN_RULE, 'query', IBAN),
    );
    assert.throws(
      () => redacted('rerank', { query: 'q', documents: ['a', `pay ${IBAN}`] }),
      blockedBy(IBAN_RULE, 'documents', IBAN),
    );
  });
});

describe('a decoy text field beside the operation’s own', () => {
  // An OpenAI-format backend gets the body as it came: every text field in it is read.
  it('is held to blockPatterns on every operation, named by its field', () => {
    assert.throws(
      () => prepare('embeddings', { input: `id ${SSN}`, prompt: 'hello' }),
      blockedBy(BLOCK_PATTERN, 'input', SSN),
    );
    assert.throws(
      () => prepare('embeddings', { input: 'hello', prompt: `id ${SSN}` }),
      blockedBy(BLOCK_PATTERN, 'prompt', SSN),
    );
    assert.throws(
      () => prepare('completions', { prompt: `id ${SSN}`, messages: [] }),
      blockedBy(BLOCK_PATTERN, 'prompt', SSN),
    );
    assert.throws(
      () =>
        prepare('chat', {
          messages: [{ role: 'user', content: 'hello' }],
          prompt: `id ${SSN}`,
        }),
      blockedBy(BLOCK_PATTERN, 'messages', SSN),
    );
  });

  it('is masked and block-checked by the redact rules as the field it is', () => {
    const chat = redacted('chat', {
      messages: [{ role: 'user', content: 'hello' }],
      input: 'write to jane@example.com',
    });
    assert.equal(chat.body.input, 'write to [REDACTED:email]');
    assert.throws(
      () => redacted('embeddings', { input: 'a', suffix: `pay ${IBAN}` }),
      blockedBy(IBAN_RULE, 'suffix', IBAN),
    );
  });

  it('is read on a batch line too', () => {
    const screen = (operation: Operation, body: JsonObject) =>
      pipeline.screenPrompt('private', operation, { model: 'private', ...body }, new Map());
    assert.throws(
      () => screen('embeddings', { input: 'hello', prompt: `id ${SSN}` }),
      blockedBy(BLOCK_PATTERN, 'prompt', SSN),
    );
  });
});

describe('text in a shape the prompt rules do not read', () => {
  const invalidAt = (param: string) => (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.param === param;

  it('is refused before any rule runs, on a single call and a batch line', () => {
    const screen = (operation: Operation, body: JsonObject) =>
      pipeline.screenPrompt('private', operation, { model: 'private', ...body }, new Map());
    for (const check of [prepare, screen]) {
      assert.throws(() => check('completions', { prompt: { note: SSN } }), invalidAt('prompt'));
      assert.throws(
        () => check('completions', { prompt: 'p', suffix: [SSN] }),
        invalidAt('suffix'),
      );
      assert.throws(
        () => check('embeddings', { input: 'a', title: { note: SSN } }),
        invalidAt('title'),
      );
      assert.throws(
        () => check('embeddings', { input: 'a', provider_extras: { title: [{ text: SSN }] } }),
        invalidAt('title'),
      );
    }
  });
});
