import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { parseChatRequest } from '../core/chat-request';
import { refuseFilesHeldElsewhere } from './gemini-held-files';
import { toGeminiRequest } from './gemini-request';

const URI = 'https://generativelanguage.googleapis.com/v1beta/files/abc';

/** A user turn with a held file between two texts (the empty one is not sent). */
const body = (backend = 'gemini-a'): JsonObject => ({
  model: 'm',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: '' },
        { type: 'text', text: 'Look:' },
        {
          type: 'file',
          file: { file_id: URI, mime_type: 'application/pdf', held_by: { route: 'r', backend } },
        },
        { type: 'text', text: 'Summarise it.' },
      ],
    },
  ],
});

const target = (backendName: string): UpstreamTarget =>
  ({ backendName, routeName: 'r', provider: 'google-gemini', model: 'm' }) as UpstreamTarget;

describe('Gemini held files', () => {
  it('sends a held file as fileData where the client put it', () => {
    const prompt = parseChatRequest(body(), { heldFiles: true });
    refuseFilesHeldElsewhere(prompt, target('gemini-a'));
    const sent = toGeminiRequest(prompt) as { contents: { parts: unknown[] }[] };
    assert.deepEqual(sent.contents[0].parts, [
      { text: 'Look:' },
      { fileData: { fileUri: URI, mimeType: 'application/pdf' } },
      { text: 'Summarise it.' },
    ]);
  });

  it('refuses, with no failover trigger, a held file at any other backend', () => {
    const prompt = parseChatRequest(body('gemini-b'), { heldFiles: true });
    assert.throws(
      () => refuseFilesHeldElsewhere(prompt, target('gemini-a')),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.NoBackendAvailable &&
        error.trigger === undefined,
    );
  });

  it('is a 400 for a backend that reads no held files, naming the part', () => {
    assert.throws(
      () => parseChatRequest(body()),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'messages[0].content[2]',
    );
  });
});
