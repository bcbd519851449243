// A Responses API agent loop with tools on DeepSeek's thinking mode (deepseek-reasoner,
// V3.2 and later by default). DeepSeek answers 400 "The reasoning_content in the thinking
// mode must be passed back to the API" when an assistant turn that called tools comes back
// without its reasoning_content, so the reasoning item the gateway answers with must carry
// the text back: as `content` (reasoning_text parts, which the openai SDKs send back as
// they came) and, when asked for or stored, as `encrypted_content` (which Codex CLI sends
// back, leaving reasoning_text parts out). Stateless (the client resends the items) and
// stored (previous_response_id), plain and streamed, with the official openai client
// against the fake OpenAI tool upstream in DeepSeek's thinking mode, which keeps that rule.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeOpenAiToolUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const THINKING = 'The user wants the weather in Paris; I will call get_weather.';

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

const QUESTION: OpenAI.Responses.ResponseInputItem = {
  role: 'user',
  content: 'Weather in Paris?',
};

const TURN = { model: 'deepseek-reasoner', tools: [WEATHER_TOOL] };

type Item = OpenAI.Responses.ResponseOutputItem;

/** The tool's output for the call among `output`. */
function toolOutput(output: readonly Item[]): OpenAI.Responses.ResponseInputItem {
  const call = output.find((item) => item.type === 'function_call');
  assert.ok(call?.type === 'function_call', JSON.stringify(output));
  return { type: 'function_call_output', call_id: call.call_id, output: 'Sunny, 21°C' };
}

/** How Codex CLI sends a reasoning item back: without its id and its reasoning_text parts. */
function asCodexSendsIt(item: Item): OpenAI.Responses.ResponseInputItem {
  if (item.type !== 'reasoning') return item as OpenAI.Responses.ResponseInputItem;
  const { id: _id, content: _content, ...rest } = item;
  return rest as OpenAI.Responses.ResponseInputItem;
}

describe('the Responses API on DeepSeek thinking mode, in a tool loop', () => {
  const upstream = new FakeOpenAiToolUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    upstream.thinking = THINKING;
    gateway = await startGatewayWithConfig(
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: responses-deepseek}
spec:
  backends:
  - name: deepseek
    provider: deepseek
    baseUrl: ${upstream.baseUrl}
    model: deepseek-reasoner
    modelNameOverride: deepseek-reasoner
  - name: vllm
    provider: vllm
    baseUrl: ${upstream.baseUrl}
    model: upstream-thinker
    modelNameOverride: vllm-thinker
`,
    );
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  /** The assistant turn that called the tool, as the backend got it on the last call. */
  function toolTurnSent(): Record<string, unknown> {
    const messages = upstream.calls.at(-1)?.body.messages as Record<string, unknown>[];
    const turn = messages.find((message) => Array.isArray(message.tool_calls));
    assert.ok(turn, JSON.stringify(messages));
    return turn;
  }

  /** The reasoning item of an answer, checked to carry the text as reasoning_text. */
  function reasoningOf(output: readonly Item[]): OpenAI.Responses.ResponseReasoningItem {
    const reasoning = output[0];
    assert.ok(reasoning?.type === 'reasoning', JSON.stringify(output));
    assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: THINKING }]);
    assert.deepEqual(reasoning.content, [{ type: 'reasoning_text', text: THINKING }]);
    return reasoning;
  }

  it('stateless: the reasoning item sent back as it came gives DeepSeek its reasoning_content', async () => {
    upstream.reset();
    const first = await client.responses.create({ ...TURN, input: [QUESTION], store: false });
    assert.deepEqual(
      first.output.map((item) => item.type),
      ['reasoning', 'message', 'function_call'],
    );
    // Not asked for (no include) and not stored: no encrypted_content, as from OpenAI.
    assert.equal(reasoningOf(first.output).encrypted_content, undefined);

    const input = [QUESTION, ...first.output, toolOutput(first.output)];
    const next = await client.responses.create({
      ...TURN,
      input: input as OpenAI.Responses.ResponseInputItem[],
      store: false,
    });
    assert.equal(next.status, 'completed');
    assert.equal(next.output_text, 'The tool said: Sunny, 21°C');
    assert.equal(upstream.calls.length, 2);
    assert.equal(upstream.calls[1]?.body.model, 'deepseek-reasoner');
    assert.equal(toolTurnSent().reasoning_content, THINKING);

    // The same turn without the reasoning is what DeepSeek refuses.
    await assert.rejects(
      client.responses.create({
        ...TURN,
        input: [QUESTION, ...first.output.slice(1), toolOutput(first.output)] as never,
        store: false,
      }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 400,
    );
  });

  it('stateless and streamed, as Codex runs: encrypted_content asked for carries it back', async () => {
    upstream.reset();
    const codexTurn = { ...TURN, store: false, include: ['reasoning.encrypted_content' as const] };
    const stream = client.responses.stream({ ...codexTurn, input: [QUESTION] });
    const done: Item[] = [];
    stream.on('response.output_item.done', (event) => done.push(event.item));
    const first = await stream.finalResponse();
    // Codex builds its history from the done events: the reasoning one carries the text.
    const streamed = reasoningOf(done);
    assert.equal(typeof streamed.encrypted_content, 'string');
    assert.deepEqual(reasoningOf(first.output), streamed);
    assert.equal(upstream.calls[0]?.body.stream, true);

    const input = [QUESTION, ...done.map(asCodexSendsIt), toolOutput(done)];
    const next = await client.responses.stream({ ...codexTurn, input }).finalResponse();
    assert.equal(next.status, 'completed');
    assert.equal(toolTurnSent().reasoning_content, THINKING);
    assert.equal('thinking_blocks' in toolTurnSent(), false);
  });

  it('stored: previous_response_id brings the reasoning back, plain and streamed', async () => {
    upstream.reset();
    const first = await client.responses.create({ ...TURN, input: [QUESTION] });
    reasoningOf(first.output);
    const next = await client.responses.create({
      ...TURN,
      previous_response_id: first.id,
      input: [toolOutput(first.output)],
    });
    assert.equal(next.status, 'completed');
    assert.equal(toolTurnSent().reasoning_content, THINKING);

    upstream.reset();
    const streamedFirst = await client.responses
      .stream({ ...TURN, input: [QUESTION] })
      .finalResponse();
    reasoningOf(streamedFirst.output);
    const streamedNext = await client.responses
      .stream({
        ...TURN,
        previous_response_id: streamedFirst.id,
        input: [toolOutput(streamedFirst.output)],
      })
      .finalResponse();
    assert.equal(streamedNext.status, 'completed');
    assert.equal(upstream.calls.length, 2);
    assert.equal(toolTurnSent().reasoning_content, THINKING);
  });

  it('leaves other backends as they were: a summary alone, and no reasoning_content sent', async () => {
    upstream.reset();
    const first = await client.responses.create({
      model: 'vllm-thinker',
      tools: [WEATHER_TOOL],
      input: [QUESTION],
      store: false,
    });
    assert.deepEqual(first.output[0], {
      type: 'reasoning',
      id: first.output[0]?.id,
      summary: [{ type: 'summary_text', text: THINKING }],
    });
    // vLLM is not sent reasoning (the fake's DeepSeek rule is off for this call).
    upstream.thinking = undefined;
    try {
      // Even with the text as reasoning_text parts, as another client might send it.
      const echoed = [
        QUESTION,
        { ...first.output[0], content: [{ type: 'reasoning_text', text: THINKING }] },
        ...first.output.slice(1),
        toolOutput(first.output),
      ];
      await client.responses.create({
        model: 'vllm-thinker',
        tools: [WEATHER_TOOL],
        input: echoed as OpenAI.Responses.ResponseInputItem[],
        store: false,
      });
    } finally {
      upstream.thinking = THINKING;
    }
    assert.equal(upstream.calls[1]?.body.model, 'upstream-thinker');
    assert.equal('reasoning_content' in toolTurnSent(), false);
  });
});
