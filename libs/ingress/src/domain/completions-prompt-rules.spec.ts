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
