// Conversations Mistral refuses in OpenAI's shape (400 invalid_request_message_order) reach
// a Mistral backend in the shape it takes, from an openai SDK client and from a Messages
// client alike: one ending on an assistant message (a prefill) is sent as the prefix to
// continue (`prefix: true`), and a user message right after a tool result gets an
// assistant turn before it (Messages clients send a tool_result and text in one user turn,
// which become a tool message and a user one). Mistral starts its answer to a prefix with
// the prefix itself (its prefix guide reads the new text as `content[len(prefix):]`); a
// Messages client gets the continuation alone, as Anthropic answers a prefill.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

type Sent = Record<string, unknown>[];

describe('Mistral gets conversations in the turn order it takes', () => {
  const mistral = new FakeOpenAiUpstream();
  let gateway: AppProcess;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    await mistral.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: mistral-turn-order}
spec:
  backends:
  - {name: mistral, provider: mistral, baseUrl: "${mistral.baseUrl}", model: mistral-large-latest, modelNameOverride: mistral-large, auth: {apiKeyRef: {name: mistral-key}}}
`,
      { AI_GATEWAY_SECRET_MISTRAL_KEY_APIKEY: 'mistral-test-key' },
    );
    openai = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await mistral.stop();
  });

  it('sends a chat client’s last assistant message as the prefix to continue', async () => {
    mistral.reset();
    await openai.chat.completions.create({
      model: 'mistral-large',
      messages: [
        { role: 'user', content: 'A haiku about snow?' },
        { role: 'assistant', content: 'White hush' },
      ],
    });
    const sent = mistral.calls[0].body.messages as Sent;
    assert.deepEqual(sent.at(-1), { role: 'assistant', content: 'White hush', prefix: true });
  });

  it('sends a Messages client’s prefill as the prefix to continue', async () => {
    mistral.reset();
    await anthropic.messages.create({
      model: 'mistral-large',
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'A haiku about snow?' },
        { role: 'assistant', content: 'White hush' },
      ],
    });
    const last = (mistral.calls[0].body.messages as Sent).at(-1);
    assert.equal(last?.role, 'assistant');
    assert.equal(last?.prefix, true);
    assert.equal(JSON.stringify(last?.content).includes('White hush'), true);
  });

  const HAIKU_PREFILL = {
    model: 'mistral-large',
    max_tokens: 50,
    messages: [
      { role: 'user' as const, content: 'A haiku about snow?' },
      { role: 'assistant' as const, content: 'White hush' },
    ],
  };

  it('gives a Messages client only the continuation of its prefill', async () => {
    mistral.reset();
    // As Mistral answers a prefix: the prefix first, here split mid-word.
    mistral.answerWith(['Whi', 'te h', 'ush', ' falls', ' on pines']);
    const answer = await anthropic.messages.create(HAIKU_PREFILL);
    assert.deepEqual(
      answer.content.map((block) => (block.type === 'text' ? block.text : block.type)),
      [' falls on pines'],
    );
    // Billed as Mistral reported, echo included.
    assert.equal(answer.usage.output_tokens, 6);
  });

  it('streams a Messages client only the continuation of its prefill', async () => {
    mistral.reset();
    mistral.answerWith(['Whi', 'te h', 'ush', ' falls', ' on pines']);
    const stream = await anthropic.messages.create({ ...HAIKU_PREFILL, stream: true });
    let text = '';
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        text += event.delta.text;
      }
    }
    assert.equal(text, ' falls on pines');
    assert.equal((mistral.calls[0].body.messages as Sent).at(-1)?.prefix, true);
  });

  it('puts an assistant turn between a Messages client’s tool result and its text', async () => {
    mistral.reset();
    await anthropic.messages.create({
      model: 'mistral-large',
      max_tokens: 50,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
    });
    const roles = (mistral.calls[0].body.messages as Sent).map((message) => message.role);
    assert.deepEqual(roles.slice(-4), ['assistant', 'tool', 'assistant', 'user']);
    const sent = mistral.calls[0].body.messages as Sent;
    assert.deepEqual(sent.at(-2), { role: 'assistant', content: 'Tool results received.' });
    assert.equal(JSON.stringify(sent.at(-1)?.content).includes('And tomorrow?'), true);
  });
});
