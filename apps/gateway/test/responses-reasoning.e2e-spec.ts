// Codex CLI and the Agents SDK on Claude with thinking, through the Responses API: they
// run stateless (`store: false`), ask for `include: ["reasoning.encrypted_content"]` and
// send every output item back in the next request. Anthropic refuses a tool-use
// continuation whose assistant turn lacks its signed thinking block, so the gateway hands
// the blocks out in the reasoning item's encrypted_content and takes them back from it.
// With the official openai client against the fake Anthropic upstream, which keeps
// Anthropic's rule, in both deployment shapes: the all-in-one gateway, and ingress,
// router and provider-adapter as three processes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ANTHROPIC_FAKE_THINKING, FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import {
  startOnAnthropicBackend,
  startSplitOnAnthropicBackend,
  type Deployment,
} from './anthropic-backend';

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
  strict: false,
};

const QUESTION: OpenAI.Responses.ResponseInputItem = {
  role: 'user',
  content: 'Weather in Paris?',
};

/** What Codex sends with every turn: thinking on, a tool, reasoning it can send back. */
const AGENT_TURN = {
  model: 'claude',
  reasoning: { effort: 'low' },
  tools: [WEATHER_TOOL],
  include: ['reasoning.encrypted_content'],
  store: false,
} satisfies Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming>;

interface SentBody {
  model?: string;
  stream?: boolean;
  system?: unknown;
  thinking?: unknown;
  messages: { role: string; content: unknown }[];
}

const SHAPES: [string, (upstream: FakeAnthropicUpstream) => Promise<Deployment>][] = [
  ['all-in-one gateway', (upstream) => startOnAnthropicBackend(upstream, 'claude')],
  [
    'ingress, router and provider-adapter processes',
    (upstream) => startSplitOnAnthropicBackend(upstream, 'claude'),
  ],
];

for (const [shape, start] of SHAPES) {
  describe(`${shape}: the Responses API on an Anthropic backend with thinking`, () => {
    const upstream = new FakeAnthropicUpstream();
    let deployment: Deployment;
    let client: OpenAI;

    before(async () => {
      await upstream.start();
      deployment = await start(upstream);
      client = new OpenAI({ baseURL: `${deployment.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    });

    after(async () => {
      await deployment?.stop();
      await upstream.stop();
    });

    const lastSent = () => upstream.calls.at(-1)?.body as unknown as SentBody;

    /** The next turn of an agent loop: the question, every output item, the tool's output. */
    function continuation(output: OpenAI.Responses.ResponseOutputItem[]) {
      const call = output.find((item) => item.type === 'function_call');
      assert.ok(call?.type === 'function_call', JSON.stringify(output));
      return [
        QUESTION,
        ...(output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output' as const, call_id: call.call_id, output: 'Sunny, 21°C' },
      ];
    }

    /** The assistant turn the backend got back starts with the signed thinking block. */
    function assertThinkingReturned(): void {
      const turn = lastSent().messages[1];
      assert.equal(turn?.role, 'assistant');
      assert.deepEqual((turn?.content as unknown[])[0], {
        type: 'thinking',
        ...ANTHROPIC_FAKE_THINKING,
      });
    }

    it('answers a plain responses.create', async () => {
      upstream.reset();
      const response = await client.responses.create({
        model: 'claude',
        instructions: 'Be brief.',
        input: 'Say hello.',
      });
      assert.equal(response.status, 'completed');
      assert.equal(response.model, 'claude');
      assert.equal(response.output_text, 'Hello from Claude.');
      assert.deepEqual(
        response.output.map((item) => item.type),
        ['message'],
      );
      // Anthropic counts cache reads and writes apart from input_tokens; Responses inside them.
      assert.deepEqual(response.usage, {
        input_tokens: 125,
        input_tokens_details: { cached_tokens: 100 },
        output_tokens: 9,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 134,
      });
      const sent = lastSent();
      assert.equal(sent.model, 'claude-sonnet-4-5');
      assert.equal(sent.system, 'Be brief.');
      assert.deepEqual(sent.messages, [
        { role: 'user', content: [{ type: 'text', text: 'Say hello.' }] },
      ]);
    });

    it('streams a plain answer through responses.stream', async () => {
      upstream.reset();
      const stream = client.responses.stream({ model: 'claude', input: 'Say hello.' });
      let text = '';
      stream.on('response.output_text.delta', (event) => (text += event.delta));
      const final = await stream.finalResponse();
      assert.equal(text, 'Hello from Claude.');
      assert.equal(final.status, 'completed');
      assert.equal(final.output_text, 'Hello from Claude.');
      assert.equal(final.usage?.output_tokens, 9);
      assert.equal(lastSent().stream, true);
    });

    it('hands out the signed thinking as encrypted_content and takes it back with the tool output', async () => {
      upstream.reset();
      const first = await client.responses.create({ ...AGENT_TURN, input: [QUESTION] });
      assert.deepEqual(lastSent().thinking, { type: 'enabled', budget_tokens: 1024 });
      assert.deepEqual(
        first.output.map((item) => item.type),
        ['reasoning', 'message', 'function_call'],
      );
      const reasoning = first.output[0];
      assert.ok(reasoning?.type === 'reasoning');
      assert.deepEqual(reasoning.summary, [
        { type: 'summary_text', text: ANTHROPIC_FAKE_THINKING.thinking },
      ]);
      assert.equal(typeof reasoning.encrypted_content, 'string');
      // Opaque to the client: the signature is not there to read.
      assert.ok(!reasoning.encrypted_content?.includes(ANTHROPIC_FAKE_THINKING.signature));

      const input = continuation(first.output);
      const next = await client.responses.create({ ...AGENT_TURN, input });
      assert.equal(next.status, 'completed');
      assertThinkingReturned();

      // The same turn without the reasoning's content is what Anthropic refuses (the fake
      // enforces it): the gateway answers it without thinking, as Anthropic advises, rather
      // than pass that 400 on (8d4dea7c), and sends the turn back with no thinking block.
      const stripped = input.map((item) =>
        'type' in item && item.type === 'reasoning' ? { ...item, encrypted_content: null } : item,
      );
      const unthought = await client.responses.create({ ...AGENT_TURN, input: stripped });
      assert.equal(unthought.status, 'completed');
      assert.equal(lastSent().thinking, undefined);
      const turn = lastSent().messages[1];
      assert.equal(turn?.role, 'assistant');
      assert.ok(
        !(turn?.content as { type: string }[]).some((block) => block.type === 'thinking'),
        JSON.stringify(turn),
      );
    });

    it('does the same through a stream: the final reasoning item carries the streamed block', async () => {
      upstream.reset();
      const stream = client.responses.stream({ ...AGENT_TURN, input: [QUESTION] });
      let summary = '';
      stream.on('response.reasoning_summary_text.delta', (event) => (summary += event.delta));
      const first = await stream.finalResponse();
      assert.equal(summary, ANTHROPIC_FAKE_THINKING.thinking);
      const reasoning = first.output[0];
      assert.ok(reasoning?.type === 'reasoning', JSON.stringify(first.output));
      assert.equal(typeof reasoning.encrypted_content, 'string');

      // Its text came in two deltas and its signature after them; the block goes back whole.
      const next = await client.responses
        .stream({ ...AGENT_TURN, input: continuation(first.output) })
        .finalResponse();
      assert.equal(next.status, 'completed');
      assertThinkingReturned();
    });

    it('refuses encrypted_content it did not write with a 400 naming the item', async () => {
      await assert.rejects(
        client.responses.create({
          ...AGENT_TURN,
          input: [
            QUESTION,
            { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAAABnot-ours' },
          ],
        }),
        (error: unknown) =>
          error instanceof OpenAI.BadRequestError && error.param === 'input[1].encrypted_content',
      );
    });
  });
}
