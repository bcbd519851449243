// Prompt caching through the gateway: the official Anthropic SDK marks breakpoints with
// cache_control, and an Anthropic backend behind the gateway gets them on the same
// blocks (the gateway's canonical OpenAI format carries them as an extension), so cached
// prompts are billed as cache reads rather than in full.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

describe('all-in-one gateway: prompt caching on an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'claude');
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('sends each cache_control breakpoint on to the backend where the client put it', async () => {
    const message = await client.messages.create({
      model: 'claude',
      max_tokens: 100,
      system: [
        { type: 'text', text: 'A long, stable instruction.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Today is Thursday.' },
      ],
      tools: [
        {
          name: 'lookup',
          input_schema: { type: 'object' },
          cache_control: { type: 'ephemeral', ttl: '1h' },
        },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'A long document.', cache_control: { type: 'ephemeral' } },
            { type: 'text', text: 'What does it say?' },
          ],
        },
      ],
    });
    assert.equal(message.model, 'claude');
    const sent = upstream.calls.at(-1)?.body as {
      model: string;
      system: unknown;
      tools: { cache_control?: unknown }[];
      messages: { content: unknown }[];
    };
    assert.equal(sent.model, 'claude-sonnet-4-5');
    assert.deepEqual(sent.system, [
      { type: 'text', text: 'A long, stable instruction.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Today is Thursday.' },
    ]);
    assert.deepEqual(sent.tools[0].cache_control, { type: 'ephemeral', ttl: '1h' });
    assert.deepEqual(sent.messages[0].content, [
      { type: 'text', text: 'A long document.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'What does it say?' },
    ]);
    // What the backend read from its cache comes back to the client.
    assert.equal(message.usage.cache_read_input_tokens, 100);
  });

  it('keeps the breakpoint an agent puts on its last assistant turn', async () => {
    await client.messages.create({
      model: 'claude',
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'Read the file.' },
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'It says hello.', cache_control: { type: 'ephemeral' } }],
        },
        { role: 'user', content: 'Shorter?' },
      ],
    });
    const sent = upstream.calls.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    assert.deepEqual(sent.messages[1], {
      role: 'assistant',
      content: [{ type: 'text', text: 'It says hello.', cache_control: { type: 'ephemeral' } }],
    });
  });
});
