// security.promptValidation on a Predicted Output (`prediction`): the model reads its content
// beside the prompt (often the file being edited, keys and all), so the rules read it too.
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

const chat = (prediction: unknown): JsonObject => ({
  model: 'private',
  messages: [{ role: 'user', content: 'rename the variable' }],
  prediction,
});
const prepare = (body: JsonObject) => pipeline.prepare('chat', body, {}, 'r') as GatewayRequest;
/** prepare, then the redaction the edge applies once the body is whole. */
const redacted = (body: JsonObject) => pipeline.redact(prepare(body), () => undefined);
const screen = (body: JsonObject) => pipeline.screenPrompt('private', 'chat', body, new Map());

const BLOCK_PATTERN = /blockPatterns\[0\]$/;
const IBAN_RULE = /iban/;

describe("prompt rules on a chat's predicted output", () => {
  it('refuses a blocked pattern in it, as text or text parts, naming prediction', () => {
    for (const content of [`const ssn = '${SSN}'`, [{ type: 'text', text: `ssn ${SSN}` }]]) {
      assert.throws(
        () => prepare(chat({ type: 'content', content })),
        blockedBy(BLOCK_PATTERN, 'prediction', SSN),
      );
      assert.throws(
        () => screen(chat({ type: 'content', content })),
        blockedBy(BLOCK_PATTERN, 'prediction', SSN),
      );
    }
  });

  it('masks it as the provider is sent it, and a block rule refuses it', () => {
    const request = redacted(chat({ type: 'content', content: 'mail jane@example.com' }));
    assert.deepEqual(request.body.prediction, {
      type: 'content',
      content: 'mail [REDACTED:email]',
    });
    const parts = redacted(
      chat({ type: 'content', content: [{ type: 'text', text: 'to jane@example.com' }] }),
    );
    assert.deepEqual(parts.body.prediction, {
      type: 'content',
      content: [{ type: 'text', text: 'to [REDACTED:email]' }],
    });
    assert.throws(
      () => redacted(chat({ type: 'content', content: `pay ${IBAN}` })),
      blockedBy(IBAN_RULE, 'prediction', IBAN),
    );
  });

  it('refuses text in a shape the rules do not read, on a call and a batch line', () => {
    const invalid = (error: unknown) =>
      error instanceof DataPlaneError &&
      error.code === DataPlaneErrorCode.InvalidRequest &&
      error.param === 'prediction';
    for (const prediction of [
      { type: 'content', content: { note: SSN } },
      { type: 'content', content: [{ type: 'text', text: 'a' }, SSN] },
      [SSN],
      SSN,
    ]) {
      assert.throws(() => prepare(chat(prediction)), invalid);
      assert.throws(() => screen(chat(prediction)), invalid);
    }
  });
});
