// A batch's answers come back in its output file, which no answer rule reads: on a route
// with security.responseValidation, a line asking for a checked answer refuses the upload.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { pipelineOver, screenedUpload } from '../domain/prompt-rules-fixture';
import { batchLineScreen } from './batch-line-screen';
import { rewriteBatchInput } from './batch-jsonl';
import { screenBatchBody } from './batch-prompt-rules';

const pipeline = pipelineOver(`kind: AIGatewayRoute
metadata: {name: checked}
spec:
  backends: [{name: c, provider: local, model: checked}]
  security:
    responseValidation: {blockPatterns: ['BEGIN PRIVATE KEY']}
---
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: local, model: open}]
`);
const screen = batchLineScreen(pipeline);

const line = (url: string, body: object) =>
  JSON.stringify({ custom_id: 'a', method: 'POST', url, body });
const chatLine = (model: string) =>
  line('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });

/** A batch file's text through the upload's rewrite, each line under `batchLineScreen`. */
const upload = (text: string, model: string) =>
  rewriteBatchInput(text, model, model, (url, body) =>
    screenBatchBody(url, body, (operation, read) => screen(model, operation, read, new Map())),
  );

const uncheckedAnswers = (error: unknown) => {
  assert.ok(error instanceof DataPlaneError, String(error));
  assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
  assert.equal(error.httpStatus, 400);
  // The upload's refusal names the line, as a prompt rule's does.
  assert.equal(error.param, 'file');
  assert.match(error.message, /^Line 1 of the batch input file: .*security\.responseValidation/);
  assert.match(error.message, /output file/);
  return true;
};

describe('a batch input line on a route that checks answers', () => {
  it('refuses the upload for chat, completions and Responses lines', () => {
    assert.throws(() => upload(chatLine('checked'), 'checked'), uncheckedAnswers);
    assert.throws(
      () => upload(line('/v1/completions', { model: 'checked', prompt: 'hi' }), 'checked'),
      uncheckedAnswers,
    );
    assert.throws(
      () => upload(line('/v1/responses', { model: 'checked', input: 'hi' }), 'checked'),
      uncheckedAnswers,
    );
  });

  it('takes embeddings lines, whose answers are vectors, and any line on a route checking none', () => {
    const embeddings = line('/v1/embeddings', { model: 'checked', input: 'hi' });
    assert.match(upload(embeddings, 'checked'), /"input":"hi"/);
    assert.match(upload(chatLine('open'), 'open'), /"content":"hi"/);
    // The prompt rules alone (what the fixture screens by) never refused it.
    assert.match(screenedUpload(pipeline, chatLine('checked'), 'checked', 'checked'), /hi/);
  });
});
