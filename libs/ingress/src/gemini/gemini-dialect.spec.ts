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
  const by = { backend: 'b', provider: 'vllm', model: 'm' };

  it("names what the answer's adapter reported left out, by Google's names", () => {
    const servedBy = {
      ...by,
      droppedSettings: [
        { setting: 'temperature', reason: 'model' },
        { setting: 'top_k', reason: 'unsupported' },
        { setting: 'presence_penalty', reason: 'unsupported' },
        { setting: 'safety_settings', reason: 'unsupported' },
        { setting: 'task_type', reason: 'unsupported' },
      ],
    } as const;
    assert.deepEqual(unappliedSettings(servedBy), [
      'temperature',
      'topK',
      'presencePenalty',
      'safetySettings',
      'taskType',
    ]);
  });

  it('names none where the adapter reported none', () => {
    assert.deepEqual(unappliedSettings(by), []);
    assert.deepEqual(unappliedSettings({ ...by, droppedSettings: [] }), []);
  });
});
