import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { translateMessagesRequest } from './anthropic-request';

// A Messages document's `citations: {enabled: true}` was dropped on the way to the backend,
// so Claude answered without the citations the client asked for, and no word of it.

const base = { model: 'claude-sonnet-4', max_tokens: 256 };
const CITED = { enabled: true };

function userContent(...blocks: JsonObject[]): unknown {
  const { chat } = translateMessagesRequest({
    ...base,
    messages: [{ role: 'user', content: [...blocks, { type: 'text', text: 'Cite it.' }] }],
  });
  return (chat.messages as JsonObject[])[0].content;
}

describe('a Messages document that asks to be cited', () => {
  it('carries the ask on its file part: a PDF inline or by URL', () => {
    const pdf = { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' };
    const url = { type: 'url', url: 'https://example.com/a.pdf' };
    assert.deepEqual(
      userContent(
        { type: 'document', title: 'a', source: pdf, citations: CITED },
        { type: 'document', source: url, citations: CITED },
      ),
      [
        {
          type: 'file',
          file: {
            file_data: 'data:application/pdf;base64,JVBERi0=',
            citations: CITED,
            filename: 'a',
          },
        },
        { type: 'file', file: { file_url: url.url, citations: CITED } },
        { type: 'text', text: 'Cite it.' },
      ],
    );
  });

  it('keeps a plain-text document as text, marked as a cited document with its title', () => {
    const source = { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' };
    assert.deepEqual(userContent({ type: 'document', title: 'Notes', source, citations: CITED }), [
      {
        type: 'text',
        text: 'The sky is blue.',
        document: { citations: CITED, title: 'Notes' },
      },
      { type: 'text', text: 'Cite it.' },
    ]);
  });

  it('is not carried when citations are off or absent', () => {
    const source = { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' };
    assert.deepEqual(
      userContent(
        { type: 'document', source, citations: { enabled: false } },
        { type: 'document', source },
      ),
      [
        { type: 'text', text: 'The sky is blue.' },
        { type: 'text', text: 'The sky is blue.' },
        { type: 'text', text: 'Cite it.' },
      ],
    );
  });

  it('refuses citations that are not an object with a boolean enabled, naming the field', () => {
    const source = { type: 'text', media_type: 'text/plain', data: 'x' };
    for (const [citations, param] of [
      [true, 'messages.0.content.0.citations'],
      [{ enabled: 'yes' }, 'messages.0.content.0.citations.enabled'],
    ] as const) {
      assert.throws(
        () => userContent({ type: 'document', source, citations }),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          error.param === param,
      );
    }
  });
});
