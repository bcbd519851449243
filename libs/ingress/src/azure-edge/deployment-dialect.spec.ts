import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MultipartForm } from '../forms/multipart-form';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import type { EdgeDialect } from '../http/edge-exchange';
import { deploymentDialect, withModel } from './deployment-dialect';

describe('deploymentDialect', () => {
  it("names the deployment as the model, over the body's own", () => {
    const dialect = deploymentDialect(OPENAI_DIALECT, 'chat-prod');
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
    assert.deepEqual(dialect.canonicalBody?.(body), { ...body, model: 'chat-prod' });
    assert.deepEqual(dialect.canonicalBody?.({ input: 'x' }), { input: 'x', model: 'chat-prod' });
    assert.equal(body.model, 'gpt-4o', 'the client body is not changed');
  });

  it("hands the named body to the endpoint's own canonicalBody, with the headers", () => {
    const seen: unknown[] = [];
    const inner: EdgeDialect = {
      ...OPENAI_DIALECT,
      canonicalBody: (body, headers) => {
        seen.push(body, headers);
        return { translated: body };
      },
    };
    const headers = { 'api-key': 'k' };
    const out = deploymentDialect(inner, 'd').canonicalBody?.({ prompt: 'p' }, headers);
    assert.deepEqual(out, { translated: { prompt: 'p', model: 'd' } });
    assert.deepEqual(seen, [{ prompt: 'p', model: 'd' }, headers]);
  });

  it('keeps the rest of the dialect (answers, streams, errors) as it is', () => {
    const kept = (dialect: EdgeDialect) =>
      Object.entries(dialect).filter(([name]) => name !== 'canonicalBody');
    assert.deepEqual(kept(deploymentDialect(OPENAI_DIALECT, 'd')), kept(OPENAI_DIALECT));
    assert.equal(deploymentDialect(OPENAI_DIALECT, 'd').costInUsage, true);
  });
});

describe('withModel', () => {
  it("replaces a form's model fields with one, keeping its other fields and files", () => {
    const file = {
      field: 'file',
      filename: 'a.wav',
      contentType: 'audio/wav',
      data: new Uint8Array(2),
    };
    const form = new MultipartForm(
      [
        ['model', 'whisper-1'],
        ['language', 'en'],
        ['model', 'other'],
      ],
      [file],
    );
    const named = withModel(form, 'whisper-prod');
    assert.ok(named instanceof MultipartForm);
    assert.deepEqual(named.fields, [
      ['model', 'whisper-prod'],
      ['language', 'en'],
    ]);
    assert.deepEqual(named.files, [file]);
    // A form without a model (Azure needs none: the deployment names it) gets one.
    const bare = withModel(new MultipartForm([], [file]), 'w') as MultipartForm;
    assert.deepEqual(bare.fields, [['model', 'w']]);
  });

  it('leaves a body that is not an object as sent (refused as at /v1)', () => {
    for (const body of [undefined, null, 'text', 3, [{ model: 'x' }]]) {
      assert.deepEqual(withModel(body, 'd'), body);
    }
  });
});
