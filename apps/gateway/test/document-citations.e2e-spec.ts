import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropicUpstream, FakeOpenAiToolUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

// A Messages client's documents with citations enabled, through the whole gateway: Claude
// is asked to cite them; an OpenAI-format backend, which cannot, refuses them by name.

describe('Messages documents with citations enabled', () => {
  const claude = new FakeAnthropicUpstream();
  const openai = new FakeOpenAiToolUpstream();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await Promise.all([claude.start(), openai.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: document-citations}
spec:
  backends:
  - name: claude
    provider: anthropic
    baseUrl: ${claude.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: claude-direct
    auth:
      apiKeyRef: {name: anthropic-key}
  - name: openai
    provider: openai
    baseUrl: ${openai.baseUrl}
    model: gpt-5
    modelNameOverride: claude-on-openai
    auth:
      apiKeyRef: {name: openai-key}
`,
      {
        AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
        AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-test',
      },
    );
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([claude.stop(), openai.stop()]);
  });

  const messages: Anthropic.MessageParam[] = [
    {
      role: 'user',
      content: [
        {
          type: 'document',
          title: 'Notes',
          source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' },
          citations: { enabled: true },
        },
        {
          type: 'document',
          title: 'report',
          source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' },
          citations: { enabled: true },
        },
        { type: 'text', text: 'What colour is the sky? Cite the notes.' },
      ],
    },
  ];

  it('reach Claude as documents with citations enabled', async () => {
    claude.reset();
    const message = await client.messages.create({
      model: 'claude-direct',
      max_tokens: 256,
      messages,
    });
    assert.equal(message.type, 'message');
    const sent = claude.calls[0]?.body.messages as { content: unknown[] }[];
    assert.deepEqual(sent[0]?.content.slice(0, 2), [
      {
        type: 'document',
        source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' },
        title: 'Notes',
        citations: { enabled: true },
      },
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' },
        title: 'report',
        citations: { enabled: true },
      },
    ]);
  });

  it('are a 400 naming the citations on an OpenAI-format backend, which is never called', async () => {
    openai.reset();
    const failure = await client.messages
      .create({ model: 'claude-on-openai', max_tokens: 256, messages })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(failure instanceof Anthropic.BadRequestError, String(failure));
    assert.equal(failure.type, 'invalid_request_error');
    assert.match(failure.message, /does not cite documents/);
    assert.equal(openai.calls.length, 0);
  });
});
