import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { checkedSpeechBody, MAX_SPEECH_CHARACTERS } from './speech-request';

const ok = { model: 'tts-1', voice: 'alloy', input: 'Hello' };

function refusedFor(param: string, body: Record<string, unknown>): void {
  assert.throws(
    () => checkedSpeechBody({ ...ok, ...body }),
    (error: unknown) =>
      error instanceof DataPlaneError && error.httpStatus === 400 && error.param === param,
    JSON.stringify(body).slice(0, 80),
  );
}

describe('checkedSpeechBody', () => {
  it('passes a good body through as it is, other fields included', () => {
    const body = {
      ...ok,
      voice: { id: 'voice_123' },
      response_format: 'opus',
      speed: 0.25,
      instructions: 'Calm.',
      stream_format: 'audio',
      extra: true,
    };
    assert.equal(checkedSpeechBody(body), body);
    const asEvents = { ...ok, model: 'gpt-4o-mini-tts', stream_format: 'sse' };
    assert.equal(checkedSpeechBody(asEvents), asEvents);
    const longest = { ...ok, input: '€'.repeat(MAX_SPEECH_CHARACTERS) };
    assert.equal(checkedSpeechBody(longest), longest);
  });

  it('refuses what OpenAI refuses, naming the field', () => {
    refusedFor('input', { input: undefined });
    refusedFor('input', { input: '' });
    refusedFor('input', { input: ['a'] });
    refusedFor('input', { input: 'x'.repeat(MAX_SPEECH_CHARACTERS + 1) });
    refusedFor('voice', { voice: undefined });
    refusedFor('voice', { voice: '' });
    refusedFor('voice', { voice: { name: 'x' } });
    refusedFor('response_format', { response_format: 'ogg' });
    for (const speed of [0.2, 4.5, '1', Number.NaN]) refusedFor('speed', { speed });
    refusedFor('instructions', { instructions: 3 });
    refusedFor('stream_format', { stream_format: 'json' });
    refusedFor('stream_format', { stream_format: true });
    refusedFor('stream', { stream: true });
  });

  it('leaves a body that is no object to the request builder', () => {
    assert.equal(checkedSpeechBody('text'), 'text');
  });
});
