// Extended thinking through the gateway, in both deployment shapes, with the official
// SDKs against an Anthropic backend: a Messages client's thinking comes back signed and,
// sent back with a tool result, lets the tool-use loop go on (Anthropic refuses the next
// turn without it); an OpenAI client's reasoning_effort becomes a thinking budget and the
// reasoning comes back as reasoning_content.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ANTHROPIC_FAKE_THINKING, FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import {
  startOnAnthropicBackend,
  startSplitOnAnthropicBackend,
  type Deployment,
} from './anthropic-backend';

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};

const SHAPES: [string, (upstream: FakeAnthropicUpstream) => Promise<Deployment>][] = [
  ['all-in-one gateway', (upstream) => startOnAnthropicBackend(upstream, 'claude')],
  [
    'ingress, router and provider-adapter processes',
    (upstream) => startSplitOnAnthropicBackend(upstream, 'claude'),
  ],
];

interface SentBody {
  thinking?: unknown;
  max_tokens?: number;
  messages: { role: string; content: unknown }[];
}

for (const [shape, start] of SHAPES) {
  describe(`${shape}: extended thinking on an Anthropic backend`, () => {
    const upstream = new FakeAnthropicUpstream();
    let deployment: Deployment;
    let anthropic: Anthropic;
    let openai: OpenAI;

    before(async () => {
      await upstream.start();
      deployment = await start(upstream);
      anthropic = new Anthropic({ baseURL: deployment.baseUrl, apiKey: 'unused', maxRetries: 0 });
      openai = new OpenAI({
        baseURL: `${deployment.baseUrl}/v1`,
        apiKey: 'unused',
        maxRetries: 0,
      });
    });

    after(async () => {
      await deployment?.stop();
      await upstream.stop();
    });

    const lastSent = () => upstream.calls.at(-1)?.body as unknown as SentBody;

    it('returns signed thinking, and takes it back with the tool result to go on', async () => {
      const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };
      const first = await anthropic.messages.create({
        model: 'claude',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [WEATHER_TOOL],
        messages: [question],
      });
      assert.deepEqual(lastSent().thinking, { type: 'enabled', budget_tokens: 1024 });
      assert.deepEqual(first.content[0], { type: 'thinking', ...ANTHROPIC_FAKE_THINKING });
      const call = first.content.find((block) => block.type === 'tool_use');
      assert.ok(call, 'the answer calls the tool');

      const next = await anthropic.messages.create({
        model: 'claude',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [WEATHER_TOOL],
        messages: [
          question,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 21°C' }],
          },
        ],
      });
      assert.equal(next.type, 'message');
      // The backend got the thinking block back first in the turn, signature and all.
      const turn = lastSent().messages[1];
      assert.equal(turn.role, 'assistant');
      assert.deepEqual((turn.content as unknown[])[0], {
        type: 'thinking',
        ...ANTHROPIC_FAKE_THINKING,
      });
    });

    it('streams the thinking block, its signature included, before the answer', async () => {
      const stream = anthropic.messages.stream({
        model: 'claude',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'Say hello.' }],
      });
      let thought = '';
      stream.on('thinking', (delta) => (thought += delta));
      const message = await stream.finalMessage();
      assert.equal(thought, ANTHROPIC_FAKE_THINKING.thinking);
      assert.deepEqual(message.content[0], { type: 'thinking', ...ANTHROPIC_FAKE_THINKING });
      assert.deepEqual(message.content[1], { type: 'text', text: 'Hello from Claude.' });
    });

    it("turns an OpenAI client's reasoning_effort into a thinking budget, and answers with its reasoning", async () => {
      const completion = await openai.chat.completions.create({
        model: 'claude',
        reasoning_effort: 'low',
        messages: [{ role: 'user', content: 'Say hello.' }],
      });
      const sent = lastSent();
      assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 1024 });
      assert.ok((sent.max_tokens ?? 0) > 1024, 'max_tokens leaves room for the answer');
      // No max_tokens: the 16384 a reasoning request is held, in either deployment shape.
      assert.equal(sent.max_tokens, 16_384);
      const message = completion.choices[0].message as (typeof completion.choices)[0]['message'] & {
        reasoning_content?: string;
        thinking_blocks?: unknown[];
      };
      assert.equal(message.content, 'Hello from Claude.');
      assert.equal(message.reasoning_content, ANTHROPIC_FAKE_THINKING.thinking);
      assert.deepEqual(message.thinking_blocks, [{ type: 'thinking', ...ANTHROPIC_FAKE_THINKING }]);

      const stream = await openai.chat.completions.create({
        model: 'claude',
        reasoning_effort: 'low',
        stream: true,
        messages: [{ role: 'user', content: 'Say hello.' }],
      });
      let reasoning = '';
      let content = '';
      const signatures: unknown[] = [];
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as
          { content?: string; reasoning_content?: string; thinking_blocks?: unknown[] } | undefined;
        reasoning += delta?.reasoning_content ?? '';
        content += delta?.content ?? '';
        signatures.push(...(delta?.thinking_blocks ?? []));
      }
      assert.equal(reasoning, ANTHROPIC_FAKE_THINKING.thinking);
      assert.equal(content, 'Hello from Claude.');
      assert.deepEqual(signatures, [
        { type: 'thinking', thinking: '', signature: ANTHROPIC_FAKE_THINKING.signature },
      ]);
    });
  });
}

// Claude 4.6 and later think adaptively, at an effort, and from Opus 4.7 refuse a budget:
// what Claude Code sends them must reach them as sent, and an OpenAI client's effort too.
describe('all-in-one gateway: adaptive thinking on Claude Opus 4.7', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: Deployment;
  let anthropic: Anthropic;
  let openai: OpenAI;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'claude', 'claude-opus-4-7');
    anthropic = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  const lastSent = () =>
    upstream.calls.at(-1)?.body as unknown as SentBody & { output_config?: unknown };

  it("passes a Messages client's adaptive thinking and effort on, and shows the thinking", async () => {
    const params = {
      model: 'claude',
      max_tokens: 8000,
      thinking: { type: 'adaptive', display: 'summarized' },
      output_config: { effort: 'high' },
      messages: [{ role: 'user', content: 'Say hello.' }],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const message = await anthropic.messages.create(params);
    const sent = lastSent();
    assert.deepEqual(sent.thinking, { type: 'adaptive', display: 'summarized' });
    assert.deepEqual(sent.output_config, { effort: 'high' });
    assert.equal(sent.max_tokens, 8000);
    assert.deepEqual(message.content[0], { type: 'thinking', ...ANTHROPIC_FAKE_THINKING });
  });

  it("gives an OpenAI client's reasoning_effort as adaptive thinking at that effort, never a budget, its reasoning shown", async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude',
      reasoning_effort: 'medium',
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    const sent = lastSent();
    // Opus 4.7 leaves the thinking text out unless asked: the client expects to read it.
    assert.deepEqual(sent.thinking, { type: 'adaptive', display: 'summarized' });
    assert.deepEqual(sent.output_config, { effort: 'medium' });
    // No max_tokens: the room a reasoning request is held (16384, above the 4096 default),
    // so the thinking leaves the answer room.
    assert.equal(sent.max_tokens, 16_384);
    const message = completion.choices[0].message as { reasoning_content?: string };
    assert.equal(message.reasoning_content, ANTHROPIC_FAKE_THINKING.thinking);

    const stream = await openai.chat.completions.create({
      model: 'claude',
      reasoning_effort: 'low',
      stream: true,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    let reasoning = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
    }
    assert.deepEqual(lastSent().thinking, { type: 'adaptive', display: 'summarized' });
    assert.equal(lastSent().max_tokens, 16_384);
    assert.equal(reasoning, ANTHROPIC_FAKE_THINKING.thinking);
  });

  it("keeps a Messages client's own display, or its model default when it set none", async () => {
    const ask = (thinking: object) =>
      anthropic.messages.create({
        model: 'claude',
        max_tokens: 8000,
        thinking,
        messages: [{ role: 'user', content: 'Say hello.' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming);
    // No display: as Anthropic serves Opus 4.7, the thinking block with its signature and
    // no text; the gateway adds nothing the client did not ask for.
    const plain = await ask({ type: 'adaptive' });
    assert.deepEqual(lastSent().thinking, { type: 'adaptive' });
    assert.deepEqual(plain.content[0], {
      type: 'thinking',
      thinking: '',
      signature: ANTHROPIC_FAKE_THINKING.signature,
    });
    const omitted = await ask({ type: 'adaptive', display: 'omitted' });
    assert.deepEqual(lastSent().thinking, { type: 'adaptive', display: 'omitted' });
    assert.deepEqual(omitted.content[0], plain.content[0]);
  });
});
