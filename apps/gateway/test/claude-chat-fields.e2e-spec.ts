// Chat fields an openai client sends that Claude has no place for, or takes differently,
// through the whole gateway: what the client asked for is either sent on in Claude's terms
// or refused by name, never dropped without a word.
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

describe('all-in-one gateway: chat fields on an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: OpenAI;
  const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'gpt-4o');
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  beforeEach(() => upstream.reset());
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('refuses the legacy functions with a 400 naming them, and calls no backend', async () => {
    const error = await client.chat.completions
      .create({
        model: 'gpt-4o',
        messages,
        functions: [{ name: 'get_weather', parameters: { type: 'object', properties: {} } }],
      })
      .then(
        () => assert.fail('expected a 400'),
        (caught: unknown) => caught,
      );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, 'functions');
    assert.match(error.message, /declare the functions in tools/);
    assert.equal(upstream.calls.length, 0);
  });

  it('refuses audio output with a 400 naming modalities', async () => {
    const error = await client.chat.completions
      .create({
        model: 'gpt-4o',
        messages,
        modalities: ['text', 'audio'],
        audio: { voice: 'alloy', format: 'mp3' },
      })
      .then(
        () => assert.fail('expected a 400'),
        (caught: unknown) => caught,
      );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, 'modalities');
    assert.equal(upstream.calls.length, 0);
  });

  it('sends an email in user as its hash, which Anthropic takes as metadata.user_id', async () => {
    await client.chat.completions.create({ model: 'gpt-4o', messages, user: 'ann@example.com' });
    const sent = upstream.calls.at(-1)?.body as { metadata?: { user_id?: string } };
    const hash = createHash('sha256').update('ann@example.com').digest('hex');
    assert.equal(sent.metadata?.user_id, hash);
  });
});
