// security.promptValidation on a legacy completion and a rerank: every text field the model
// reads is held to blockPatterns and block rules, and a refusal names that field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';
import { IBAN, SSN, blockedBy, promptRulesPipeline } from './prompt-rules-fixture';

const pipeline = promptRulesPipeline();

const prepare = (operation: Operation, fields: JsonObject) =>
  pipeline.prepare(operation, { model: 'private', ...fields }, {}, 'r') as GatewayRequest;
/** prepare, then the redaction the edge applies once the body is whole. */
const redacted = (operation: Operation, fields: JsonObject) =>
  pipeline.redact(prepare(operation, fields), () => undefined);

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
