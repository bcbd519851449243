// An OpenAI-format backend that streams parallel tool calls with their names in pieces,
// the pieces of the calls interleaved (call 0, call 1, call 0 again) and a piece of call
// 0's name after its arguments began. The calls name Claude Code's MCP tools, past
// OpenAI's 64, so the backend gets aliases: no client, on any edge, may see one, and each
// call must arrive named whole with its own input.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { GoogleGenAI, type FunctionCall, type GenerateContentResponse } from '@google/genai';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { MCP_TOOL, QUERY_INPUT } from './claude-code-tools';

type Json = Record<string, unknown>;

/** A second MCP tool of the same server: its alias begins as MCP_TOOL's does. */
const MCP_TOOL_2 = `mcp__plugin_marketplace_docs__${'read_the_whole_page_'.repeat(4)}`;

/** Two names within Gemini's 64 characters, each past 40: sent as they are, in three pieces. */
const DOCS_SEARCH = 'search_the_documentation_for_a_query_by_keyword';
const DOCS_READ = 'read_a_whole_page_of_the_documentation_site';

/**
 * Calls the tools it is offered, each name in pieces: two tools interleaved (see the
 * script below), one tool in three pieces and then its arguments.
 */
class InterleavedNamesUpstream {
  readonly bodies: Json[] = [];
  private readonly server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Json;
      this.bodies.push(body);
      const names = toolNamesOf(body);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const deltas = names.length > 1 ? interleaved(names[0], names[1]) : inPieces(names[0]);
      response.end(
        [
          event([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
          ...deltas.map((delta) => event([{ index: 0, delta, finish_reason: null }])),
          event([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]),
          event([], { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 }),
          'data: [DONE]\n\n',
        ].join(''),
      );
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** The tool names the backend was last sent. */
  sentNames(): string[] {
    return toolNamesOf(this.bodies.at(-1));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function toolNamesOf(body: Json | undefined): string[] {
  return (body?.tools as { function: { name: string } }[]).map((tool) => tool.function.name);
}

/** The functionCalls of a Gemini stream's first candidate, in the order they came. */
async function functionCallsOf(stream: AsyncIterable<GenerateContentResponse>) {
  const calls: FunctionCall[] = [];
  for await (const response of stream) {
    for (const part of response.candidates?.[0]?.content?.parts ?? []) {
      if (part.functionCall) calls.push(part.functionCall);
    }
  }
  return calls;
}

function event(choices: Json[], usage?: Json): string {
  const chunk = { id: 'chatcmpl-il', object: 'chat.completion.chunk', created: 1, model: 'm' };
  return `data: ${JSON.stringify({ ...chunk, choices, ...(usage ? { usage } : {}) })}\n\n`;
}

const call = (index: number, fn: Json, id = '') => ({
  tool_calls: [{ index, id, type: 'function', function: fn }],
});

/** Two calls, their name pieces and arguments interleaved; call 0's last piece after its arguments. */
function interleaved(first: string, second: string): Json[] {
  return [
    { content: 'Checking both.' },
    call(0, { name: first.slice(0, 20), arguments: '' }, 'call_0'),
    call(1, { name: second.slice(0, 20), arguments: '' }, 'call_1'),
    call(0, { name: first.slice(20, 40) }),
    call(1, { name: second.slice(20) }),
    call(0, { arguments: '{"q": "in' }),
    call(1, { arguments: '{"q": "up' }),
    call(0, { name: first.slice(40) }),
    call(1, { arguments: 'date"}' }),
    call(0, { arguments: 'stall"}' }),
  ];
}

/** One call, its name in three pieces, then its arguments. */
function inPieces(name: string): Json[] {
  const third = Math.ceil(name.length / 3);
  return [
    call(0, { name: name.slice(0, third), arguments: '' }, 'call_0'),
    call(0, { name: name.slice(third, 2 * third) }),
    call(0, { name: name.slice(2 * third) }),
    call(0, { arguments: '{"q": "install"}' }),
  ];
}

describe('parallel tool calls whose aliased names a backend streams interleaved', () => {
  const upstream = new InterleavedNamesUpstream();
  let gateway: AppProcess;
  /** The aliases the backend was sent: no answer may carry one. */
  const aliasesSent = () => upstream.sentNames();
  const assertNoAlias = (what: string, relayed: string) => {
    for (const alias of aliasesSent()) {
      assert.ok(alias.length <= 64 && alias !== MCP_TOOL && alias !== MCP_TOOL_2, alias);
      // Any piece of an alias's digest would do: its tail is never part of a client's name.
      assert.doesNotMatch(relayed, new RegExp(alias.slice(-13)), `${what}: ${alias}`);
    }
  };

  const openai = () =>
    new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  const gemini = () =>
    new GoogleGenAI({ apiKey: 'goog-key', httpOptions: { baseUrl: gateway.baseUrl } });

  before(async () => {
    await upstream.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: interleaved-tool-names}
spec:
  backends:
  - {name: interleaved, provider: vllm, baseUrl: "${upstream.baseUrl}", model: upstream-model, modelNameOverride: interleaved, auth: {apiKeyRef: {name: interleaved-key}}}
`,
      { AI_GATEWAY_SECRET_INTERLEAVED_KEY_APIKEY: 'sk-interleaved' },
    );
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('chat completions: each call named whole in its first delta, by the client’s names', async () => {
    const stream = await openai().chat.completions.create({
      model: 'interleaved',
      stream: true,
      messages: [{ role: 'user', content: 'Find the install guide and the update page' }],
      tools: [MCP_TOOL, MCP_TOOL_2].map((name) => ({
        type: 'function' as const,
        function: { name, parameters: QUERY_INPUT },
      })),
    });
    const calls = new Map<number, { id: string; names: string[]; args: string; first: unknown }>();
    const relayed: unknown[] = [];
    for await (const chunk of stream) {
      relayed.push(chunk);
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const seen = calls.get(delta.index) ?? { id: '', names: [], args: '', first: delta };
        calls.set(delta.index, seen);
        if (delta.id) seen.id = delta.id;
        if (delta.function?.name) seen.names.push(delta.function.name);
        seen.args += delta.function?.arguments ?? '';
      }
    }
    assertNoAlias('chat', JSON.stringify(relayed));
    assert.deepEqual(Object.fromEntries(calls), {
      0: {
        id: 'call_0',
        names: [MCP_TOOL],
        args: '{"q": "install"}',
        first: calls.get(0)?.first,
      },
      1: {
        id: 'call_1',
        names: [MCP_TOOL_2],
        args: '{"q": "update"}',
        first: calls.get(1)?.first,
      },
    });
    // The delta that begins each call is the one naming it.
    for (const [index, { first }] of calls) {
      assert.equal(
        (first as { function: { name?: string } }).function.name,
        [MCP_TOOL, MCP_TOOL_2][index],
      );
    }
  });

  it('Messages: two tool_use blocks, each started with its whole name and given its own input', async () => {
    const client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
    const stream = client.messages.stream({
      model: 'interleaved',
      max_tokens: 256,
      tools: [MCP_TOOL, MCP_TOOL_2].map((name) => ({ name, input_schema: QUERY_INPUT })),
      messages: [{ role: 'user', content: 'Find the install guide and the update page' }],
    });
    const events: unknown[] = [];
    const starts: string[] = [];
    stream.on('streamEvent', (event) => {
      events.push(event);
      if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
        starts.push(event.content_block.name);
      }
    });
    const message = await stream.finalMessage();
    assertNoAlias('messages', JSON.stringify(events));
    // One block at a time: no input after its block's stop, where clients take it as done.
    let open: number | undefined;
    for (const event of events as Anthropic.MessageStreamEvent[]) {
      if (event.type === 'content_block_start') open = event.index;
      if (event.type === 'content_block_delta') assert.equal(event.index, open);
      if (event.type === 'content_block_stop') open = undefined;
    }
    // Call 1's name was whole first (call 0's last piece came after its arguments).
    assert.deepEqual(starts, [MCP_TOOL_2, MCP_TOOL]);
    const uses = message.content.flatMap((block) =>
      block.type === 'tool_use' ? [[block.id, block.name, block.input]] : [],
    );
    assert.deepEqual(uses, [
      ['call_1', MCP_TOOL_2, { q: 'update' }],
      ['call_0', MCP_TOOL, { q: 'install' }],
    ]);
    assert.equal(message.stop_reason, 'tool_use');
  });

  it('Responses: a name of no alias sent in pieces comes whole in the function_call item', async () => {
    const stream = await openai().responses.create({
      model: 'interleaved',
      input: 'Find the install guide',
      stream: true,
      tools: [
        { type: 'function', name: 'search_the_docs', parameters: QUERY_INPUT, strict: false },
      ],
    });
    const added: string[] = [];
    const done: [string, string][] = [];
    for await (const event of stream) {
      if (event.type === 'response.output_item.added' && event.item.type === 'function_call') {
        added.push(event.item.name);
      }
      if (event.type === 'response.output_item.done' && event.item.type === 'function_call') {
        done.push([event.item.name, event.item.arguments]);
      }
    }
    assert.deepEqual(added, ['search_the_docs']);
    assert.deepEqual(done, [['search_the_docs', '{"q": "install"}']]);
    assert.deepEqual(upstream.sentNames(), ['search_the_docs']);
  });

  it('Gemini: a name of no alias sent in pieces comes whole in the functionCall', async () => {
    const stream = await gemini().models.generateContentStream({
      model: 'interleaved',
      contents: 'Find the install guide',
      config: {
        tools: [
          {
            functionDeclarations: [
              { name: 'search_the_docs', description: 'Search', parametersJsonSchema: QUERY_INPUT },
            ],
          },
        ],
      },
    });
    const calls = (await functionCallsOf(stream)).map(({ name, args }) => [name, args]);
    assert.deepEqual(calls, [['search_the_docs', { q: 'install' }]]);
  });

  it('Responses (responses.stream): the interleaved calls as two function_call items, one after the other, each whole', async () => {
    const stream = openai().responses.stream({
      model: 'interleaved',
      input: 'Find the install guide and the update page',
      tools: [MCP_TOOL, MCP_TOOL_2].map((name) => ({
        type: 'function' as const,
        name,
        parameters: QUERY_INPUT,
        strict: false,
      })),
    });
    const events: { type: string; output_index?: number }[] = [];
    stream.on('event', (event) => events.push(event));
    const response = await stream.finalResponse();
    assertNoAlias('responses', JSON.stringify(events));
    // Items never overlap: each one's events lie between its added and its done.
    let open: number | undefined;
    for (const event of events) {
      if (event.output_index === undefined) continue;
      if (event.type === 'response.output_item.added') {
        assert.equal(open, undefined, `item ${event.output_index} added while ${open} is open`);
        open = event.output_index;
      } else assert.equal(event.output_index, open, event.type);
      if (event.type === 'response.output_item.done') open = undefined;
    }
    const calls = response.output.flatMap((item) =>
      item.type === 'function_call'
        ? [[item.call_id, item.name, JSON.parse(item.arguments) as unknown, item.status]]
        : [],
    );
    // Call 1's name was whole first (call 0's last piece came after its arguments).
    assert.deepEqual(calls, [
      ['call_1', MCP_TOOL_2, { q: 'update' }, 'completed'],
      ['call_0', MCP_TOOL, { q: 'install' }, 'completed'],
    ]);
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'Checking both.');
  });

  it('Gemini (:streamGenerateContent?alt=sse): the interleaved calls as two whole functionCalls in index order', async () => {
    // Gemini takes names of at most 64 characters: these are sent as they are, in pieces.
    const stream = await gemini().models.generateContentStream({
      model: 'interleaved',
      contents: 'Find the install guide and the update page',
      config: {
        tools: [
          {
            functionDeclarations: [DOCS_SEARCH, DOCS_READ].map((name) => ({
              name,
              description: 'Docs',
              parametersJsonSchema: QUERY_INPUT,
            })),
          },
        ],
      },
    });
    const calls = (await functionCallsOf(stream)).map(({ id, name, args }) => [id, name, args]);
    assert.deepEqual(upstream.sentNames(), [DOCS_SEARCH, DOCS_READ]);
    assert.deepEqual(calls, [
      ['call_0', DOCS_SEARCH, { q: 'install' }],
      ['call_1', DOCS_READ, { q: 'update' }],
    ]);
  });
});
