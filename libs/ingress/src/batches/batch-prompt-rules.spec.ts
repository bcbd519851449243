import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { pipelineOver, screenedUpload } from '../domain/prompt-rules-fixture';
import type { RedactionTally } from '../redaction/redactor';

const pipeline = pipelineOver(
  `kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends: [{name: p, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: up, modelNameOverride: gpt-batch}]
  security:
    promptValidation:
      blockPatterns: ["launch code"]
      redact: {detectors: [email, {name: iban, mode: block}]}
`,
);

/** A batch file's text through the upload's rewrite, with the route's prompt rules. */
function upload(lines: readonly object[], tally: RedactionTally = new Map()): string {
  const text = lines.map((line) => JSON.stringify(line)).join('\n');
  return screenedUpload(pipeline, text, 'gpt-batch', 'up', tally);
}

const chat = (content: string) => ({
  custom_id: content.slice(0, 8),
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'gpt-batch', messages: [{ role: 'user', content }] },
});

function refusal(pattern: RegExp, secret: string) {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.equal(error.code, DataPlaneErrorCode.PromptBlocked);
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes(secret), error.message);
    return true;
  };
}

describe("a batch file's lines under the route's prompt rules", () => {
  it('refuses a line a blockPattern matches, naming its number and the rule, not the text', () => {
    assert.throws(
      () => upload([chat('hello'), chat('the launch code is 0000')]),
      refusal(/^Line 2 of the batch input file: .*blockPatterns\[0\]/, 'launch code'),
    );
  });

  it('refuses a line a block detector of redact matches', () => {
    assert.throws(
      () => upload([chat('pay DE89370400440532013000 now')]),
      refusal(/^Line 1 .*security\.promptValidation\.redact \(iban\)/, 'DE89370400440532013000'),
    );
  });

  it('masks what the route masks and counts it, model rewritten as before', () => {
    const tally: RedactionTally = new Map();
    const out = upload([chat('mail a@b.io'), chat('and c@d.io')], tally);
    type Body = { model: string; messages: { content: string }[] };
    const bodies = out.split('\n').map((line) => (JSON.parse(line) as { body: Body }).body);
    assert.deepEqual(
      bodies.map((body) => [body.model, body.messages[0].content]),
      [
        ['up', 'mail [REDACTED:email]'],
        ['up', 'and [REDACTED:email]'],
      ],
    );
    assert.deepEqual([...tally], [['email', 2]]);
  });

  it('reads a Responses body as the chat a single Responses call becomes', () => {
    const line = {
      custom_id: 'r',
      method: 'POST',
      url: '/v1/responses',
      body: {
        model: 'gpt-batch',
        instructions: 'reply to a@b.io',
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'from c@d.io' }] },
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"to":"e@f.io"}' },
          { type: 'function_call_output', call_id: 'c1', output: 'sent to g@h.io' },
          { type: 'reasoning', id: 'rs_1', summary: [] },
        ],
      },
    };
    const body = JSON.parse(upload([line])).body;
    assert.equal(body.instructions, 'reply to [REDACTED:email]');
    assert.deepEqual(body.input, [
      { role: 'user', content: [{ type: 'input_text', text: 'from [REDACTED:email]' }] },
      {
        type: 'function_call',
        call_id: 'c1',
        name: 'f',
        arguments: '{"to":"[REDACTED:email]"}',
      },
      { type: 'function_call_output', call_id: 'c1', output: 'sent to [REDACTED:email]' },
      { type: 'reasoning', id: 'rs_1', summary: [] },
    ]);
    const plain = { ...line, body: { model: 'gpt-batch', input: 'the LAUNCH CODE' } };
    assert.throws(() => upload([plain]), refusal(/blockPatterns\[0\]/, 'LAUNCH'));
  });

  it('reads an embeddings line as a single embeddings call: blockPatterns, then masks', () => {
    const line = (input: unknown) => ({
      custom_id: 'e',
      method: 'POST',
      url: '/v1/embeddings',
      body: { model: 'gpt-batch', input },
    });
    assert.deepEqual(JSON.parse(upload([line(['mail a@b.io'])])).body.input, [
      'mail [REDACTED:email]',
    ]);
    assert.throws(
      () => upload([chat('hello'), line(['a', 'the launch code of a@b.io'])]),
      refusal(/^Line 2 of the batch input file: .*blockPatterns\[0\]/, 'launch code'),
    );
    assert.throws(
      () => upload([line('pay DE89370400440532013000 now')]),
      refusal(/^Line 1 .*security\.promptValidation\.redact \(iban\)/, 'DE89370400440532013000'),
    );
  });

  it('reads a line of any other url as a completion, so none passes unread', () => {
    const line = { ...chat('x'), url: '/v1/other', body: { model: 'gpt-batch', prompt: 'a@b.io' } };
    assert.equal(JSON.parse(upload([line])).body.prompt, '[REDACTED:email]');
  });
});
