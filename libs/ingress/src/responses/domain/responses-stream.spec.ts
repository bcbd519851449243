import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { decodeReasoning, encodeReasoning } from './encrypted-reasoning';
import { responsesFacts } from './responses-request';
import { outputText, responseObject, type ResponseContext } from './responses-response';
import { ResponseStreamTranslator, type ResponseStreamEvent } from './responses-stream';

const usage: TokenUsage = {
  inputTokens: 12,
  outputTokens: 6,
  cachedInputTokens: 0,
  source: 'reported',
};

const context: ResponseContext = {
  facts: responsesFacts({ model: 'gpt-virtual', input: 'x' }),
  model: 'gpt-virtual',
  requestId: 'req-1',
  createdAt: 1_750_000_000,
};

// Anthropic-shaped signature and redacted block, as the canonical stream carries them.
const SIGNATURE = 'EqQBCkgIBxABGAIqQKz8a1y3sF0+9mQ/5c2d7/eHx0p4WmH1yJb2kLqS3tV9uR==';
const REDACTED: ThinkingBlock = {
  type: 'redacted_thinking',
  data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2Y==',
};

function chunk(delta: JsonObject, finish_reason: string | null = null): JsonObject {
  return {
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    model: 'm',
    choices: [{ index: 0, delta, finish_reason }],
  };
}

/**
 * One tool call as the upstream streams it: the opening chunk (id, name, empty text), one chunk
 * per piece of its arguments (function) or input (custom), then the tool_calls finish.
 */
function toolCallChunks(
  type: 'function' | 'custom',
  id: string,
  name: string,
  pieces: string[],
): JsonObject[] {
  const text = type === 'function' ? 'arguments' : 'input';
  return [
    chunk({ tool_calls: [{ index: 0, id, type, [type]: { name, [text]: '' } }] }),
    ...pieces.map((piece) => chunk({ tool_calls: [{ index: 0, [type]: { [text]: piece } }] })),
    chunk({}, 'tool_calls'),
  ];
}

/** The same request, asking for reasoning it can send back (as Codex and the Agents SDK do). */
const withEncrypted: ResponseContext = {
  ...context,
  facts: responsesFacts({
    model: 'gpt-virtual',
    input: 'x',
    include: ['reasoning.encrypted_content'],
  }),
};

function run(chunks: JsonObject[], on: ResponseContext = context): ResponseStreamEvent[] {
  const translator = new ResponseStreamTranslator(on);
  return [
    ...translator.start(),
    ...chunks.flatMap((c) => translator.push(c)),
    ...translator.finish(usage),
  ];
}

/** A chunk carrying fragments of the choice's tool calls. */
function tools(...calls: JsonObject[]): JsonObject {
  return chunk({ tool_calls: calls });
}

/** A call's fragment: its first names it whole (as the providers' wire hands it on). */
function call(index: number, args: string, name?: string): JsonObject {
  return name === undefined
    ? { index, function: { arguments: args } }
    : { index, id: `call_${index}`, type: 'function', function: { name, arguments: args } };
}

/** The function_call item of chat call `index` at output index `index`. */
function functionCall(index: number, name: string, args: string, status = 'completed'): JsonObject {
  return {
    type: 'function_call',
    id: `fc_req1_${index}`,
    call_id: `call_${index}`,
    name,
    arguments: args,
    status,
  };
}

/** Claude Code's MCP tool names, past OpenAI's 64: aliased to the backend, restored whole. */
const MCP_A = `mcp__plugin_marketplace_docs__${'search_the_whole_site_'.repeat(4)}`;
const MCP_B = `mcp__plugin_marketplace_docs__${'read_the_whole_page_'.repeat(4)}`;

/** Items never overlap: every event of an item comes between its added and its done. */
function assertItemsApart(events: ResponseStreamEvent[]): void {
  let open: unknown;
  for (const event of events) {
    if (!('output_index' in event)) continue;
    if (event.type === 'response.output_item.added') {
      assert.equal(open, undefined, `item ${String(event.output_index)} added while one is open`);
      open = event.output_index;
      continue;
    }
    assert.equal(event.output_index, open, `${event.type} outside its item`);
    if (event.type === 'response.output_item.done') open = undefined;
  }
  assert.equal(open, undefined, 'an item left open');
}

/** The events without their sequence numbers, which one test checks for all. */
function unnumbered(events: ResponseStreamEvent[]): JsonObject[] {
  return events.map(({ sequence_number: _, ...rest }) => rest);
}

const inProgress = responseObject(context, 'in_progress');
const opening = [
  { type: 'response.created', response: inProgress },
  { type: 'response.in_progress', response: inProgress },
];

const finalUsage = {
  input_tokens: 12,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 6,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 18,
};

describe('OpenAI chunks to Responses stream events', () => {
  it('streams text in the documented order, numbered from 0, usage in response.completed', () => {
    const events = run([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hello' }),
      chunk({ content: ' world' }),
      chunk({}, 'stop'),
      { id: 'chatcmpl-s', object: 'chat.completion.chunk', choices: [], usage: {} },
    ]);
    assert.deepEqual(
      events.map((event) => event.sequence_number),
      events.map((_, index) => index),
    );
    const where = { item_id: 'msg_req1_0', output_index: 0 };
    const message = {
      type: 'message' as const,
      id: 'msg_req1_0',
      role: 'assistant' as const,
      status: 'completed' as const,
      content: [outputText('Hello world')],
    };
    assert.deepEqual(unnumbered(events), [
      ...opening,
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { ...message, status: 'in_progress', content: [] },
      },
      {
        type: 'response.content_part.added',
        ...where,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      },
      {
        type: 'response.output_text.delta',
        ...where,
        content_index: 0,
        delta: 'Hello',
        logprobs: [],
      },
      {
        type: 'response.output_text.delta',
        ...where,
        content_index: 0,
        delta: ' world',
        logprobs: [],
      },
      {
        type: 'response.output_text.done',
        ...where,
        content_index: 0,
        text: 'Hello world',
        logprobs: [],
      },
      {
        type: 'response.content_part.done',
        ...where,
        content_index: 0,
        part: { type: 'output_text', text: 'Hello world', annotations: [] },
      },
      { type: 'response.output_item.done', output_index: 0, item: message },
      {
        type: 'response.completed',
        response: responseObject(context, 'completed', { output: [message], usage: finalUsage }),
      },
    ]);
  });

  it('streams a tool call as a function_call item whose arguments arrive in pieces', () => {
    const events = run([
      chunk({ role: 'assistant', content: 'Checking.' }),
      ...toolCallChunks('function', 'call_a', 'get_weather', ['{"city":', '"Paris"}']),
    ]);
    const call = {
      type: 'function_call',
      id: 'fc_req1_1',
      call_id: 'call_a',
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
      status: 'completed',
    };
    const where = { item_id: 'fc_req1_1', output_index: 1 };
    assert.deepEqual(
      unnumbered(events).map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.deepEqual(unnumbered(events).slice(8, 13), [
      {
        type: 'response.output_item.added',
        output_index: 1,
        item: { ...call, arguments: '', status: 'in_progress' },
      },
      { type: 'response.function_call_arguments.delta', ...where, delta: '{"city":' },
      { type: 'response.function_call_arguments.delta', ...where, delta: '"Paris"}' },
      // `name` as OpenAI's current schema requires it (typed clients refuse the event without).
      {
        type: 'response.function_call_arguments.done',
        ...where,
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      },
      { type: 'response.output_item.done', output_index: 1, item: call },
    ]);
    const completed = events.at(-1)?.response as JsonObject;
    assert.deepEqual(
      (completed.output as JsonObject[]).map((item) => item.type),
      ['message', 'function_call'],
    );
    assert.deepEqual((completed.output as JsonObject[])[1], call);
  });

  it('gives each of two calls in one chunk its own item, the first done before the second', () => {
    const events = run([
      chunk({
        tool_calls: [
          { index: 0, id: 'call_a', function: { name: 'f', arguments: '{}' } },
          { index: 1, id: 'call_b', function: { name: 'g', arguments: '{"x":1}' } },
        ],
      }),
      chunk({}, 'tool_calls'),
    ]);
    const items = events
      .filter((event) => event.type === 'response.output_item.done')
      .map((event) => event.item as JsonObject);
    assert.deepEqual(
      items.map((item) => [item.id, item.call_id, item.arguments]),
      [
        ['fc_req1_0', 'call_a', '{}'],
        ['fc_req1_1', 'call_b', '{"x":1}'],
      ],
    );
  });

  it('streams reasoning as a reasoning item whose summary arrives in pieces', () => {
    const events = run([
      chunk({ role: 'assistant', reasoning_content: 'Think' }),
      // vLLM, Groq, Ollama and OpenRouter name it `reasoning`.
      chunk({ reasoning: 'ing.' }),
      chunk({ content: 'Done.' }),
      chunk({}, 'stop'),
      {
        id: 'chatcmpl-s',
        choices: [],
        usage: { completion_tokens_details: { reasoning_tokens: 4 } },
      },
    ]);
    const where = { item_id: 'rs_req1_0', output_index: 0 };
    const reasoning = {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [{ type: 'summary_text', text: 'Thinking.' }],
    };
    assert.deepEqual(unnumbered(events).slice(2, 10), [
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { type: 'reasoning', id: 'rs_req1_0', summary: [] },
      },
      {
        type: 'response.reasoning_summary_part.added',
        ...where,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      },
      { type: 'response.reasoning_summary_text.delta', ...where, summary_index: 0, delta: 'Think' },
      { type: 'response.reasoning_summary_text.delta', ...where, summary_index: 0, delta: 'ing.' },
      {
        type: 'response.reasoning_summary_text.done',
        ...where,
        summary_index: 0,
        text: 'Thinking.',
      },
      {
        type: 'response.reasoning_summary_part.done',
        ...where,
        summary_index: 0,
        part: { type: 'summary_text', text: 'Thinking.' },
      },
      { type: 'response.output_item.done', output_index: 0, item: reasoning },
      {
        type: 'response.output_item.added',
        output_index: 1,
        item: {
          type: 'message',
          id: 'msg_req1_1',
          role: 'assistant',
          status: 'in_progress',
          content: [],
        },
      },
    ]);
    const completed = events.at(-1)?.response as JsonObject;
    assert.deepEqual((completed.output as JsonObject[])[0], reasoning);
    assert.deepEqual((completed.usage as JsonObject).output_tokens_details, {
      reasoning_tokens: 4,
    });
  });

  it('gives the reasoning item its signed block as encrypted_content: the fragments joined, then the signature', () => {
    // As the canonical stream carries Anthropic's thinking: text fragments, then the
    // signature in a thinking_blocks entry whose thinking is empty.
    const chunks = [
      chunk({ role: 'assistant', reasoning_content: 'The user ' }),
      chunk({ reasoning_content: 'wants weather.' }),
      chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: SIGNATURE }] }),
      chunk({ content: 'Let me check.' }),
      chunk({ tool_calls: [{ index: 0, id: 'toolu_01A', function: { name: 'get_weather' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
      chunk({}, 'tool_calls'),
    ];
    const events = run(chunks, withEncrypted);
    const expected = {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [{ type: 'summary_text', text: 'The user wants weather.' }],
      encrypted_content: encodeReasoning([
        { type: 'thinking', thinking: 'The user wants weather.', signature: SIGNATURE },
      ]),
    };
    const added = events.find((event) => event.type === 'response.output_item.added');
    assert.deepEqual(added?.item, { type: 'reasoning', id: 'rs_req1_0', summary: [] });
    const done = events.find((event) => event.type === 'response.output_item.done');
    assert.deepEqual(done?.item, expected);
    const completed = events.at(-1)?.response as JsonObject;
    assert.deepEqual((completed.output as JsonObject[])[0], expected);
    assert.deepEqual(
      (completed.output as JsonObject[]).map((item) => item.type),
      ['reasoning', 'message', 'function_call'],
    );
    // The events are those of any reasoning: the signature adds none of its own.
    const plain = run(chunks);
    assert.deepEqual(
      events.map((event) => event.type),
      plain.map((event) => event.type),
    );
    // Not asked for, the item is its summary alone.
    const { encrypted_content: _, ...summaryOnly } = expected;
    assert.deepEqual(
      ((plain.at(-1)?.response as JsonObject).output as JsonObject[])[0],
      summaryOnly,
    );
  });

  it('gives DeepSeek its reasoning back: the done item and the Response carry the text as reasoning_text, and as an unsigned block when asked', () => {
    const chunks = [
      chunk({ role: 'assistant', reasoning_content: 'I need ' }),
      chunk({ reasoning_content: 'the weather tool.' }),
      ...toolCallChunks('function', 'call_1', 'get_weather', ['{"city":', '"Paris"}']),
    ];
    const text = 'I need the weather tool.';
    const summaryOnly = {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [{ type: 'summary_text', text }],
    };
    const withText = { ...summaryOnly, content: [{ type: 'reasoning_text', text }] };
    const unsigned = encodeReasoning([{ type: 'thinking', thinking: text, signature: '' }]);
    const cases: [ResponseContext, JsonObject][] = [
      [{ ...context, reasoningTextBack: true }, withText],
      [
        { ...withEncrypted, reasoningTextBack: true },
        { ...withText, encrypted_content: unsigned },
      ],
      // Other backends: as before.
      [context, summaryOnly],
      [withEncrypted, summaryOnly],
    ];
    for (const [on, expected] of cases) {
      const events = run(chunks, on);
      const done = events.find((event) => event.type === 'response.output_item.done');
      assert.deepEqual(done?.item, expected);
      const completed = events.at(-1)?.response as JsonObject;
      assert.deepEqual((completed.output as JsonObject[])[0], expected);
      // The item opens empty and its text streams as summary deltas, as for any backend.
      const added = events.find((event) => event.type === 'response.output_item.added');
      assert.deepEqual(added?.item, { type: 'reasoning', id: 'rs_req1_0', summary: [] });
      assert.deepEqual(
        events.map((event) => event.type),
        run(chunks).map((event) => event.type),
      );
    }
    // Stored unasked: the Response kept has the block, the one shown has not.
    const translator = new ResponseStreamTranslator({
      ...context,
      reasoningTextBack: true,
      store: true,
    });
    translator.start();
    chunks.forEach((c) => translator.push(c));
    const shown = translator.finish(usage).at(-1)?.response as JsonObject;
    assert.deepEqual((shown.output as JsonObject[])[0], withText);
    assert.deepEqual(translator.finalResponse?.output[0], {
      ...withText,
      encrypted_content: unsigned,
    });
  });

  it('gives each signed block its own text, and ignores entries that only repeat the text', () => {
    const events = run(
      [
        chunk({ reasoning_content: 'First.' }),
        // LiteLLM repeats streamed text in thinking_blocks without a signature.
        chunk({ thinking_blocks: [{ type: 'thinking', thinking: 'First.' }] }),
        chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-1' }] }),
        chunk({ reasoning_content: 'Second.' }),
        chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-2' }] }),
        // A backend that sends a block whole never streamed its text: it is the summary too.
        chunk({ thinking_blocks: [{ type: 'thinking', thinking: 'Third.', signature: 'sig-3' }] }),
        chunk({ content: 'Done.' }),
        chunk({}, 'stop'),
      ],
      withEncrypted,
    );
    const reasoning = ((events.at(-1)?.response as JsonObject).output as JsonObject[])[0];
    assert.deepEqual((reasoning?.summary as JsonObject[])[0]?.text, 'First.Second.Third.');
    assert.deepEqual(decodeReasoning(reasoning?.encrypted_content as string), [
      { type: 'thinking', thinking: 'First.', signature: 'sig-1' },
      { type: 'thinking', thinking: 'Second.', signature: 'sig-2' },
      { type: 'thinking', thinking: 'Third.', signature: 'sig-3' },
    ]);
  });

  it('answers redacted reasoning alone with a reasoning item that has no summary part', () => {
    const events = run(
      [
        chunk({ role: 'assistant', thinking_blocks: [REDACTED] }),
        chunk({ content: 'Hi.' }),
        chunk({}, 'stop'),
      ],
      withEncrypted,
    );
    const item = {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [],
      encrypted_content: encodeReasoning([REDACTED]),
    };
    assert.deepEqual(unnumbered(events).slice(2, 5), [
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { type: 'reasoning', id: 'rs_req1_0', summary: [] },
      },
      { type: 'response.output_item.done', output_index: 0, item },
      {
        type: 'response.output_item.added',
        output_index: 1,
        item: {
          type: 'message',
          id: 'msg_req1_1',
          role: 'assistant',
          status: 'in_progress',
          content: [],
        },
      },
    ]);
    // Not asked for, redacted reasoning shows nothing.
    assert.deepEqual(
      (
        (
          run([chunk({ thinking_blocks: [REDACTED] }), chunk({ content: 'Hi.' })]).at(-1)
            ?.response as JsonObject
        ).output as JsonObject[]
      ).map((output) => output.type),
      ['message'],
    );
  });

  it("streams a model's refusal as a refusal part with refusal deltas, not an empty text", () => {
    const events = run([
      chunk({ role: 'assistant', content: null, refusal: "I'm sorry" }),
      chunk({ refusal: ', no.' }),
      chunk({}, 'stop'),
    ]);
    const where = { item_id: 'msg_req1_0', output_index: 0 };
    const message = {
      type: 'message',
      id: 'msg_req1_0',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'refusal', refusal: "I'm sorry, no." }],
    };
    assert.deepEqual(unnumbered(events), [
      ...opening,
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { ...message, status: 'in_progress', content: [] },
      },
      {
        type: 'response.content_part.added',
        ...where,
        content_index: 0,
        part: { type: 'refusal', refusal: '' },
      },
      { type: 'response.refusal.delta', ...where, content_index: 0, delta: "I'm sorry" },
      { type: 'response.refusal.delta', ...where, content_index: 0, delta: ', no.' },
      { type: 'response.refusal.done', ...where, content_index: 0, refusal: "I'm sorry, no." },
      {
        type: 'response.content_part.done',
        ...where,
        content_index: 0,
        part: { type: 'refusal', refusal: "I'm sorry, no." },
      },
      { type: 'response.output_item.done', output_index: 0, item: message },
      {
        type: 'response.completed',
        response: responseObject(context, 'completed', {
          output: [message as never],
          usage: finalUsage,
        }),
      },
    ]);
  });

  it('gives text then a refusal in one message two parts, each closed before the next opens', () => {
    const events = run([chunk({ content: 'Well' }), chunk({ refusal: 'No.' }), chunk({}, 'stop')]);
    const kinds = events
      .filter((event) => 'content_index' in event)
      .map((event) => `${event.type}@${event.content_index as number}`);
    assert.deepEqual(kinds, [
      'response.content_part.added@0',
      'response.output_text.delta@0',
      'response.output_text.done@0',
      'response.content_part.done@0',
      'response.content_part.added@1',
      'response.refusal.delta@1',
      'response.refusal.done@1',
      'response.content_part.done@1',
    ]);
    const done = events.at(-1)?.response as { output: { content: unknown }[] };
    assert.deepEqual(done.output[0]?.content, [
      outputText('Well'),
      { type: 'refusal', refusal: 'No.' },
    ]);
  });

  it("names the served tier in response.completed, as the backend's chunks name it", () => {
    const tiered = (delta: JsonObject, finish: string | null = null) => ({
      ...chunk(delta, finish),
      service_tier: 'priority',
    });
    const events = run([tiered({ content: 'Hi' }), tiered({}, 'stop')]);
    const response = events.at(-1)?.response as JsonObject;
    assert.equal(response.service_tier, 'priority');
    const plain = run([chunk({ content: 'Hi' }), chunk({}, 'stop')]).at(-1)?.response as JsonObject;
    assert.equal('service_tier' in plain, false);
  });

  it('ends an answer cut by the token limit with response.incomplete', () => {
    const events = run([chunk({ content: 'Once upon' }), chunk({}, 'length')]);
    const last = events.at(-1);
    assert.equal(last?.type, 'response.incomplete');
    const response = last?.response as JsonObject;
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal((response.output as JsonObject[])[0]?.status, 'incomplete');
  });

  it('still sends an empty message for an answer with nothing in it', () => {
    const events = run([chunk({ role: 'assistant', content: '' }), chunk({}, 'stop')]);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
  });

  it('ends a broken stream with an error event and response.failed, never response.completed', () => {
    const translator = new ResponseStreamTranslator(context);
    const events = [...translator.start(), ...translator.push(chunk({ content: 'Hel' }))];
    events.push(
      ...translator.fail(
        new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'The backend closed the stream'),
      ),
    );
    assert.deepEqual(
      events.map((event) => event.sequence_number),
      events.map((_, index) => index),
    );
    const [error, failed] = unnumbered(events).slice(-2);
    assert.deepEqual(error, {
      type: 'error',
      code: 'UPSTREAM.STREAM_INTERRUPTED', // as the chat stream's error names it
      message: 'The backend closed the stream',
      param: null,
    });
    assert.equal(failed?.type, 'response.failed');
    const response = failed?.response as JsonObject;
    assert.equal(response.status, 'failed');
    assert.deepEqual(response.error, {
      code: 'server_error',
      message: 'The backend closed the stream',
    });
    assert.deepEqual(response.output, [
      {
        type: 'message',
        id: 'msg_req1_0',
        role: 'assistant',
        status: 'incomplete',
        content: [{ type: 'output_text', text: 'Hel', annotations: [] }],
      },
    ]);
  });

  it('says store: false in response.failed: a broken stream is never stored', () => {
    const stored: ResponseContext = { ...context, store: true, responseId: 'resp_kept' };
    const translator = new ResponseStreamTranslator(stored);
    const [created] = translator.start();
    assert.equal((created?.response as JsonObject).store, true);
    translator.push(chunk({ content: 'Hel' }));
    const failed = translator.fail(
      new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'The backend closed the stream'),
    )[1];
    const response = failed?.response as JsonObject;
    assert.equal(response.id, 'resp_kept');
    assert.equal(response.store, false);
  });

  it('sends what a chunk made before it broke the stream, so response.failed shows only what was sent', () => {
    const translator = new ResponseStreamTranslator(context);
    const sent = [
      ...translator.start(),
      ...translator.push(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f' } }] })),
    ];
    // Text (a new message, closing the call) and then arguments for the call already done.
    const late = chunk({ content: 'x', tool_calls: [{ index: 0, function: { arguments: '{}' } }] });
    assert.throws(() => translator.push(late), /after the next one had begun/);
    sent.push(
      ...translator.fail(
        new DataPlaneError(DataPlaneErrorCode.UpstreamBadResponse, 'bad tool call order'),
      ),
    );
    assert.deepEqual(
      sent.map((event) => event.sequence_number),
      sent.map((_, index) => index),
    );
    const added = sent
      .filter((event) => event.type === 'response.output_item.added')
      .map((event) => (event.item as JsonObject).id);
    const failed = sent.at(-1)?.response as { output: JsonObject[] };
    assert.deepEqual(
      failed.output.map((item) => item.id),
      added,
    );
    assert.deepEqual(
      sent.slice(-3).map((event) => event.type),
      ['response.output_text.delta', 'error', 'response.failed'],
    );
  });

  it('refuses arguments for a call whose arguments were whole when the next began, and lets whitespace by', () => {
    const translator = new ResponseStreamTranslator(context);
    translator.push(tools(call(0, '{"a":1}', 'f')));
    translator.push(tools(call(1, '', 'g')));
    assert.deepEqual(translator.push(tools(call(0, ' \n'))), [], 'whitespace is nothing to add');
    assert.throws(
      () => translator.push(tools(call(0, ',"b":2}'))),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.UpstreamBadResponse &&
        /after the next one had begun/.test(error.message),
    );
  });

  it('streams two interleaved parallel calls as two items, one after the other, each whole', () => {
    const events = run([
      tools(call(0, '', 'search_docs')),
      tools(call(1, '', 'read_page')),
      tools(call(0, '{"q": "in')),
      tools(call(1, '{"url": "/up')),
      tools(call(0, 'stall"}')),
      tools(call(1, 'date"}')),
      chunk({}, 'tool_calls'),
    ]);
    assertItemsApart(events);
    const fc = (index: number) => ({ item_id: `fc_req1_${index}`, output_index: index });
    assert.deepEqual(unnumbered(events).slice(2, -1), [
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: functionCall(0, 'search_docs', '', 'in_progress'),
      },
      { type: 'response.function_call_arguments.delta', ...fc(0), delta: '{"q": "in' },
      { type: 'response.function_call_arguments.delta', ...fc(0), delta: 'stall"}' },
      {
        type: 'response.function_call_arguments.done',
        ...fc(0),
        name: 'search_docs',
        arguments: '{"q": "install"}',
      },
      {
        type: 'response.output_item.done',
        output_index: 0,
        item: functionCall(0, 'search_docs', '{"q": "install"}'),
      },
      // Call 1's item opens once call 0's arguments are whole, with what it gathered.
      {
        type: 'response.output_item.added',
        output_index: 1,
        item: functionCall(1, 'read_page', '', 'in_progress'),
      },
      { type: 'response.function_call_arguments.delta', ...fc(1), delta: '{"url": "/up' },
      { type: 'response.function_call_arguments.delta', ...fc(1), delta: 'date"}' },
      {
        type: 'response.function_call_arguments.done',
        ...fc(1),
        name: 'read_page',
        arguments: '{"url": "/update"}',
      },
      {
        type: 'response.output_item.done',
        output_index: 1,
        item: functionCall(1, 'read_page', '{"url": "/update"}'),
      },
    ]);
    assert.deepEqual((events.at(-1)?.response as JsonObject).output, [
      functionCall(0, 'search_docs', '{"q": "install"}'),
      functionCall(1, 'read_page', '{"url": "/update"}'),
    ]);
  });

  it('gives a second call without index its own arguments when the first has none (a tool with no parameters)', () => {
    // Backends that name no index: each call's first fragment carries its id, the rest none.
    const unindexed = (fragment: JsonObject): JsonObject => {
      const { index: _index, ...rest } = fragment;
      return rest;
    };
    const events = run([
      tools(unindexed(call(0, '', 'now'))),
      tools(unindexed(call(1, '', 'weather'))),
      tools(unindexed(call(1, '{"city": '))),
      tools(unindexed(call(1, '"Paris"}'))),
      chunk({}, 'tool_calls'),
    ]);
    assertItemsApart(events);
    assert.deepEqual((events.at(-1)?.response as JsonObject).output, [
      functionCall(0, 'now', ''),
      functionCall(1, 'weather', '{"city": "Paris"}'),
    ]);
  });

  it('streams three interleaved calls with long (restored) names in the order they began, each whole', () => {
    // As the providers' wire hands them on: each name whole in its call's first fragment,
    // the client's own name where the backend was sent an alias; call 2 began first.
    const events = run([
      chunk({ content: 'Checking.' }),
      tools(call(2, '{"q": ', MCP_A)),
      tools(call(0, '{"q": "a', MCP_A), call(1, '', MCP_B)),
      tools(call(1, '{"url": "b"}'), call(0, '"}')),
      tools(call(2, '"c"}')),
      chunk({}, 'tool_calls'),
    ]);
    assertItemsApart(events);
    const done = events
      .filter((event) => event.type === 'response.output_item.done')
      .map((event) => event.item as JsonObject)
      .map((item) => [item.type, item.call_id, item.name, item.arguments]);
    assert.deepEqual(done, [
      ['message', undefined, undefined, undefined],
      ['function_call', 'call_2', MCP_A, '{"q": "c"}'],
      ['function_call', 'call_0', MCP_A, '{"q": "a"}'],
      ['function_call', 'call_1', MCP_B, '{"url": "b"}'],
    ]);
    const completed = events.at(-1) as ResponseStreamEvent & { response: JsonObject };
    assert.equal(completed.type, 'response.completed');
    assert.deepEqual(
      (completed.response.output as JsonObject[]).map((item) => [item.id, item.call_id]),
      [
        ['msg_req1_0', undefined],
        ['fc_req1_1', 'call_2'],
        ['fc_req1_2', 'call_0'],
        ['fc_req1_3', 'call_1'],
      ],
    );
  });

  it('ends held calls before other content and at the finish, whole, even with their arguments cut', () => {
    const translator = new ResponseStreamTranslator(context);
    const events = [
      ...translator.start(),
      ...translator.push(tools(call(0, '{"q": ', 'f'))),
      ...translator.push(tools(call(1, '{"x": 1}', 'g'))),
      ...translator.push(tools(call(0, '"a"'))),
    ];
    assert.equal(events.filter((event) => event.type === 'response.output_item.added').length, 1);
    // Text: call 0's item ends (its arguments as they are), then call 1's, then the message.
    events.push(...translator.push(chunk({ content: 'Done.' })), ...translator.finish(usage));
    assertItemsApart(events);
    const completed = events.at(-1)?.response as JsonObject;
    assert.deepEqual(
      (completed.output as JsonObject[]).map((item) => [item.type, item.name, item.arguments]),
      [
        ['function_call', 'f', '{"q": "a"'],
        ['function_call', 'g', '{"x": 1}'],
        ['message', undefined, undefined],
      ],
    );
  });

  it('streams calls sent one after another as they come: the second call holds nothing back', () => {
    const translator = new ResponseStreamTranslator(context);
    translator.start();
    translator.push(tools(call(0, '{"q": ', 'f')));
    translator.push(tools(call(0, '"a"}')));
    const second = translator.push(tools(call(1, '{"x": ', 'g')));
    assert.deepEqual(
      unnumbered(second).map((event) => [event.type, event.output_index]),
      [
        ['response.function_call_arguments.done', 0],
        ['response.output_item.done', 0],
        ['response.output_item.added', 1],
        ['response.function_call_arguments.delta', 1],
      ],
    );
    assert.deepEqual(unnumbered(translator.push(tools(call(1, '2}')))), [
      {
        type: 'response.function_call_arguments.delta',
        item_id: 'fc_req1_1',
        output_index: 1,
        delta: '2}',
      },
    ]);
  });

  it("streams a custom tool's call as a custom_tool_call item with input deltas, then done", () => {
    const events = run([
      chunk({ role: 'assistant', content: null }),
      ...toolCallChunks('custom', 'call_patch', 'apply_patch', [
        '*** Begin Patch\n',
        '*** End Patch',
      ]),
    ]);
    const item = {
      type: 'custom_tool_call',
      id: 'ctc_req1_0',
      call_id: 'call_patch',
      name: 'apply_patch',
    };
    const where = { item_id: 'ctc_req1_0', output_index: 0 };
    assert.deepEqual(unnumbered(events).slice(2, -1), [
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { ...item, input: '', status: 'in_progress' },
      },
      { type: 'response.custom_tool_call_input.delta', ...where, delta: '*** Begin Patch\n' },
      { type: 'response.custom_tool_call_input.delta', ...where, delta: '*** End Patch' },
      {
        type: 'response.custom_tool_call_input.done',
        ...where,
        input: '*** Begin Patch\n*** End Patch',
      },
      {
        type: 'response.output_item.done',
        output_index: 0,
        item: { ...item, input: '*** Begin Patch\n*** End Patch', status: 'completed' },
      },
    ]);
    const last = events.at(-1) as ResponseStreamEvent & { response: JsonObject };
    assert.equal(last.type, 'response.completed');
    assert.deepEqual(last.response.output, [
      { ...item, input: '*** Begin Patch\n*** End Patch', status: 'completed' },
    ]);
  });
});
