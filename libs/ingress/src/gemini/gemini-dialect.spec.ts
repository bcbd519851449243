import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { geminiCallerHeaders } from './gemini-dialect';
import { unappliedSettings } from './gemini-unapplied';

function request(headers: Record<string, string>, query: Record<string, string> = {}) {
  return { headers, query } as unknown as FastifyRequest;
}

describe("Gemini API caller's key", () => {
  it('takes ?key= as x-goog-api-key and either as the bearer when there is no Authorization', () => {
    assert.deepEqual(
      geminiCallerHeaders(request({ 'x-user-id': 'u' }, { key: 'k1', alt: 'sse' })),
      {
        'x-user-id': 'u',
        'x-goog-api-key': 'k1',
        authorization: 'Bearer k1',
      },
    );
    assert.deepEqual(geminiCallerHeaders(request({ 'x-goog-api-key': 'k2' })), {
      'x-goog-api-key': 'k2',
      authorization: 'Bearer k2',
    });
  });

  it("keeps the client's own Authorization and header key first", () => {
    assert.deepEqual(
      geminiCallerHeaders(
        request({ authorization: 'Bearer jwt', 'x-goog-api-key': 'k2' }, { key: 'q' }),
      ),
      { authorization: 'Bearer jwt', 'x-goog-api-key': 'k2' },
    );
    const plain = request({ 'x-user-id': 'u' });
    assert.equal(geminiCallerHeaders(plain), plain.headers, 'no key: the headers as they came');
  });
});

describe('Gemini settings a backend leaves unapplied', () => {
  const extras = { top_k: 40, safety_settings: [{}] };
  const by = (provider: string, model = 'm') => ({ backend: 'b', provider, model });

  it('names none for Gemini on either API, topK not for Claude, both for the rest', () => {
    assert.deepEqual(unappliedSettings(extras, by('google-gemini')), []);
    assert.deepEqual(unappliedSettings(extras, by('vertex', 'gemini-2.5-flash')), []);
    assert.deepEqual(unappliedSettings(extras, by('anthropic')), ['safetySettings']);
    assert.deepEqual(unappliedSettings(extras, by('vertex', 'claude-sonnet-4-5@20250929')), [
      'safetySettings',
    ]);
    assert.deepEqual(unappliedSettings(extras, by('bedrock', 'us.anthropic.claude-opus-4-7')), [
      'safetySettings',
    ]);
    assert.deepEqual(unappliedSettings(extras, by('bedrock', 'amazon.nova-pro-v1:0')), [
      'topK',
      'safetySettings',
    ]);
    assert.deepEqual(unappliedSettings(extras, by('openai')), ['topK', 'safetySettings']);
    assert.deepEqual(unappliedSettings({ task_type: 'X', title: 'T' }, by('cohere')), [
      'taskType',
      'title',
    ]);
    assert.deepEqual(unappliedSettings(undefined, by('openai')), []);
  });
});
