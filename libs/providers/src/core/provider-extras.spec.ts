import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { chatExtras, embeddingExtras } from './provider-extras';

function rejects(run: () => unknown, param: string, message: RegExp): void {
  assert.throws(
    run,
    (error: unknown) =>
      error instanceof DataPlaneError && error.param === param && message.test(error.message),
  );
}

// The extras carry settings, never text: the prompt rules redact the input and the titles
// (the edge's redactBody), so a setting must not be a place for text to ride past them.
describe('provider_extras carry enum names, not text, but for titles', () => {
  it("takes Google's safety settings by enum name or number", () => {
    const safety = [
      { category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' },
      { category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 4, method: 'SEVERITY' },
    ];
    assert.deepEqual(chatExtras({ provider_extras: { safety_settings: safety } }), {
      safetySettings: safety,
    });
  });

  it('refuses a safety setting holding text, naming the field and not the value', () => {
    for (const setting of [
      { category: 'HARM_CATEGORY_HARASSMENT', threshold: 'mail jane@example.com' },
      { category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE', note: 'sk-abc123' },
      { category: 'HARM_CATEGORY_HARASSMENT', 'my card 4111': 'BLOCK_NONE' },
      { category: { text: 'nested' } },
    ]) {
      rejects(
        () => chatExtras({ provider_extras: { safety_settings: [setting] } }),
        'safety_settings',
        /^provider_extras\.safety_settings must be a list of objects of enum names/,
      );
    }
  });

  it('takes task_type as an enum name, shared or per input, and refuses text', () => {
    assert.deepEqual(
      embeddingExtras({ provider_extras: { task_type: ['RETRIEVAL_DOCUMENT', null] } }, 2),
      { taskType: ['RETRIEVAL_DOCUMENT', null] },
    );
    for (const taskType of ['card 4111 1111 1111 1111', ['RETRIEVAL_QUERY', 'a@b.io']]) {
      rejects(
        () => embeddingExtras({ provider_extras: { task_type: taskType } }, 2),
        'task_type',
        /must be an enum name, or a list of one enum name or null per input/,
      );
    }
  });

  it('takes any text as a title (the prompt rules redact it), shared or per input', () => {
    assert.deepEqual(
      embeddingExtras({ provider_extras: { title: ['A doc: 2026, v1.2', null] } }, 2),
      { title: ['A doc: 2026, v1.2', null] },
    );
    rejects(
      () => embeddingExtras({ provider_extras: { title: ['one'] } }, 2),
      'title',
      /must be a string, or a list of one string or null per input/,
    );
  });
});
