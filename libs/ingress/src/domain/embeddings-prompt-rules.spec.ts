// security.promptValidation on an embeddings request: its input and document titles leave
// the building as a chat message does, so blockPatterns and block rules refuse them alike.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { IBAN, SSN, blockedBy, promptRulesPipeline } from './prompt-rules-fixture';

const pipeline = promptRulesPipeline();

const embed = (fields: JsonObject) =>
  pipeline.prepare('embeddings', { model: 'private', ...fields }, {}, 'r') as GatewayRequest;

const BLOCK_PATTERN =
  /^The prompt was blocked by rule security\.promptValidation\.blockPatterns\[0\]$/;

describe('blockPatterns on an embeddings request', () => {
  it('refuses a string input or any input of a list, as a chat message is refused', () => {
    for (const input of [`ssn ${SSN}`, ['clean', `ssn ${SSN}`]]) {
      assert.throws(() => embed({ input }), blockedBy(BLOCK_PATTERN, 'input', SSN));
    }
    const chat = () =>
      pipeline.prepare(
        'chat',
        { model: 'private', messages: [{ role: 'user', content: `ssn ${SSN}` }] },
        {},
        'r',
      );
    assert.throws(chat, blockedBy(BLOCK_PATTERN, 'messages', SSN));
  });

  it("refuses a document title (Vertex's title, provider_extras.title) as its input", () => {
    for (const fields of [
      { title: `file of ${SSN}` },
      { provider_extras: { title: `file of ${SSN}` } },
      { provider_extras: { title: [null, `file of ${SSN}`] } },
    ]) {
      assert.throws(
        () => embed({ input: ['a', 'b'], ...fields }),
        blockedBy(BLOCK_PATTERN, 'title', SSN),
        JSON.stringify(fields),
      );
    }
  });

  it('passes clean text, and refuses token ids its model has no tokenizer known to read', () => {
    assert.deepEqual(embed({ input: ['clean', 'text'] }).body.input, ['clean', 'text']);
    // 123-45-6789 as cl100k token ids: a local model's tokenizer is unknown, so no rule could
    // read them (token-id-prompts.spec decodes them for OpenAI's models).
    const ids = [4513, 12, 1774, 12, 17458, 24];
    for (const input of [ids, [ids, [3]]]) {
      assert.throws(
        () => embed({ input }),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === 'input' &&
          /cannot be checked against the prompt rules for model "private"/.test(error.message),
      );
    }
  });

  it('checks nothing on a route whose promptValidation is off', () => {
    const off = promptRulesPipeline(false);
    const request = off.prepare(
      'embeddings',
      { model: 'private', input: SSN },
      {},
      'r',
    ) as GatewayRequest;
    assert.equal(request.body.input, SSN);
  });
});

describe('redaction block rules on an embeddings request', () => {
  it('refuses a block match in the input or a title, naming the rule and the field', () => {
    const rule = /^The prompt was blocked by rule security\.promptValidation\.redact \(iban\)$/;
    assert.throws(
      () => pipeline.redact(embed({ input: [`pay ${IBAN}`] }), () => undefined),
      blockedBy(rule, 'input', IBAN),
    );
    assert.throws(
      () => pipeline.redact(embed({ input: 'a', title: `pay ${IBAN}` }), () => undefined),
      blockedBy(rule, 'title', IBAN),
    );
  });
});

describe('an embeddings line of a batch file', () => {
  const screen = (body: JsonObject) =>
    pipeline.screenPrompt('private', 'embeddings', { model: 'private', ...body }, new Map());

  it('is refused by blockPatterns as a single call is', () => {
    assert.throws(() => screen({ input: [`ssn ${SSN}`] }), blockedBy(BLOCK_PATTERN, 'input', SSN));
  });

  it('takes the shapes a single call takes, so no text hides where the rules do not read', () => {
    assert.throws(
      () => screen({ input: [[`a@b.io`]] }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'input',
    );
    assert.deepEqual(screen({ input: ['mail a@b.io'] }).input, ['mail [REDACTED:email]']);
  });
});
