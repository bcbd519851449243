// A Messages client (Claude Code) calls an MCP tool whose name is past OpenAI's 64 through
// an OpenAI-format backend that streams a tool call's name in pieces over several deltas,
// as an OpenAI-compatible server may. The backend gets a short alias; the client must get
// its own name back, whole, with the call's input.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import OpenAI from 'openai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { MCP_TOOL, QUERY_INPUT } from './claude-code-tools';

type Json = Record<string, unknown>;

/** Calls the first tool it is offered, its name in three pieces, then its arguments. */
class NameInPiecesUpstream {
  readonly bodies: Json[] = [];
  private readonly server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Json;
      this.bodies.push(body);
      const [tool] = body.tools as { function: { name: string } }[];
      const name = tool?.function.name ?? 'none';
      const third = Math.ceil(name.length / 3);
      const chunk = (delta: Json, finish: string | null = null) =>
        `data: ${JSON.stringify({
          id: 'chatcmpl-pieces',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'upstream-model',
          choices: [{ index: 0, delta, finish_reason: finish }],
        })}\n\n`;
      const call = (fn: Json, id = '') => ({
        tool_calls: [{ index: 0, id, type: 'function', function: fn }],
      });
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(
        [
          chunk({ role: 'assistant', content: 'Let me look.' }),
          chunk(call({ name: name.slice(0, third), arguments: '' }, 'call_pieces')),
          chunk(call({ name: name.slice(third, 2 * third) })),
          chunk(call({ name: name.slice(2 * third) })),
          chunk(call({ name: null, arguments: '{"q": "in' })),
          chunk(call({ name: null, arguments: 'stall"}' })),
          chunk({}, 'tool_calls'),
          `data: ${JSON.stringify({ id: 'chatcmpl-pieces', object: 'chat.completion.chunk', created: 1, model: 'upstream-model', choices: [], usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 } })}\n\n`,
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

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The names of a stream's tool_use blocks as their starts carry them, filled in as it runs. */
function toolUseStarts(stream: MessageStream): string[] {
  const starts: string[] = [];
  stream.on('streamEvent', (event) => {
    if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
      starts.push(event.content_block.name);
    }
  });
  return starts;
}

describe('a long tool name through an OpenAI-format backend that streams names in pieces', () => {
  const upstream = new NameInPiecesUpstream();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await upstream.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: tool-name-pieces}
spec:
  backends:
  - {name: pieces, provider: vllm, baseUrl: "${upstream.baseUrl}", model: upstream-model, modelNameOverride: pieces, auth: {apiKeyRef: {name: pieces-key}}}
`,
      { AI_GATEWAY_SECRET_PIECES_KEY_APIKEY: 'sk-pieces' },
    );
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it("streams the client's own name back, whole, with the call's input", async () => {
    const stream = client.messages.stream({
      model: 'pieces',
      max_tokens: 256,
      tools: [{ name: MCP_TOOL, description: 'Search the docs', input_schema: QUERY_INPUT }],
      messages: [{ role: 'user', content: 'Find the install guide' }],
    });
    const starts = toolUseStarts(stream);
    const message = await stream.finalMessage();
    assert.deepEqual(starts, [MCP_TOOL]);
    const [text, called] = message.content;
    assert.equal(text?.type === 'text' ? text.text : undefined, 'Let me look.');
    assert.equal(called?.type, 'tool_use');
    if (called?.type !== 'tool_use') return;
    assert.equal(called.name, MCP_TOOL);
    assert.equal(called.id, 'call_pieces');
    assert.deepEqual(called.input, { q: 'install' });
    assert.equal(message.stop_reason, 'tool_use');
    // The backend was sent the short alias, never the long name.
    const [tool] = upstream.bodies[0]?.tools as { function: { name: string } }[];
    const alias = tool?.function.name ?? '';
    assert.ok(alias.length <= 64 && alias !== MCP_TOOL, alias);
  });

  it('streams a short (unaliased) name sent in pieces whole, in one tool_use start', async () => {
    // Claude Code's own tools: names within 64 reach the backend as they are.
    const stream = client.messages.stream({
      model: 'pieces',
      max_tokens: 256,
      tools: [
        { name: 'WebFetch', description: 'Fetch a page', input_schema: QUERY_INPUT },
        { name: 'WebFetchAll', description: 'Fetch pages', input_schema: QUERY_INPUT },
      ],
      messages: [{ role: 'user', content: 'Fetch the install guide' }],
    });
    const starts = toolUseStarts(stream);
    const message = await stream.finalMessage();
    assert.deepEqual(starts, ['WebFetch']);
    const called = message.content.find((block) => block.type === 'tool_use');
    assert.equal(called?.name, 'WebFetch');
    assert.equal(called?.id, 'call_pieces');
    assert.deepEqual(called?.input, { q: 'install' });
    assert.equal(message.stop_reason, 'tool_use');
    const [tool] = upstream.bodies.at(-1)?.tools as { function: { name: string } }[];
    assert.equal(tool?.function.name, 'WebFetch');
  });

  it('sends the alias where the next turn names the tool: tool_choice and the tool_use carried back', async () => {
    const tools = [{ name: MCP_TOOL, input_schema: QUERY_INPUT }];
    const first = await client.messages
      .stream({
        model: 'pieces',
        max_tokens: 256,
        tools,
        messages: [{ role: 'user', content: 'Find the install guide' }],
      })
      .finalMessage();
    const called = first.content.find((block) => block.type === 'tool_use');
    assert.equal(called?.name, MCP_TOOL);
    const next = await client.messages
      .stream({
        model: 'pieces',
        max_tokens: 256,
        tools,
        tool_choice: { type: 'tool', name: MCP_TOOL },
        messages: [
          { role: 'user', content: 'Find the install guide' },
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: called?.id ?? '', content: 'none' }],
          },
        ],
      })
      .finalMessage();
    assert.equal(next.content.find((block) => block.type === 'tool_use')?.name, MCP_TOOL);
    const sent = upstream.bodies.at(-1) as {
      tools: { function: { name: string } }[];
      tool_choice: { function: { name: string } };
      messages: { tool_calls?: { function: { name: string } }[] }[];
    };
    const alias = sent.tools[0]?.function.name;
    assert.ok(alias !== undefined && alias.length <= 64 && alias !== MCP_TOOL, String(alias));
    assert.equal(sent.tool_choice.function.name, alias);
    assert.equal(
      sent.messages.find((turn) => turn.tool_calls)?.tool_calls?.[0]?.function.name,
      alias,
    );
    assert.doesNotMatch(JSON.stringify(upstream.bodies), new RegExp(MCP_TOOL));
  });
});

// The same MCP tool through a direct Gemini backend (64 at most, as documented for
// function declarations), from Claude Code's Messages API and from a Responses client.
describe('a long tool name through a Gemini backend', () => {
  const DASHED_TOOL = `mcp__claude-in-chrome__${'read_the_page_text_'.repeat(4)}`;
  const upstream = new FakeGeminiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: tool-name-gemini}
spec:
  backends:
  - {name: gemini, provider: google-gemini, baseUrl: "${upstream.baseUrl}", model: gemini-2.5-flash, modelNameOverride: gemini, auth: {apiKeyRef: {name: gemini-key}}}
`,
      { AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaTestKey' },
    );
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  /** The function names the gateway declared to Gemini: the alias, never the long name. */
  function assertAliasDeclared(): void {
    const body = upstream.calls[0]?.body as {
      tools: { functionDeclarations: { name: string }[] }[];
    };
    const alias = body.tools[0]?.functionDeclarations[0]?.name ?? '';
    assert.match(alias, /^[A-Za-z_][A-Za-z0-9_]{63}$/);
    assert.doesNotMatch(JSON.stringify(upstream.calls), new RegExp(DASHED_TOOL));
  }

  it("streams Claude Code's own name back from a Messages call", async () => {
    const client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
    const message = await client.messages
      .stream({
        model: 'gemini',
        max_tokens: 256,
        tools: [{ name: DASHED_TOOL, description: 'Read the page', input_schema: QUERY_INPUT }],
        messages: [{ role: 'user', content: 'Read the page' }],
      })
      .finalMessage();
    const called = message.content.find((block) => block.type === 'tool_use');
    assert.equal(called?.name, DASHED_TOOL);
    assert.deepEqual(called?.input, { city: 'Paris' });
    assert.equal(message.stop_reason, 'tool_use');
    assertAliasDeclared();
  });

  it("answers a Responses client's own function name, plain and streamed", async () => {
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
    });
    const tools = [
      { type: 'function' as const, name: DASHED_TOOL, parameters: QUERY_INPUT, strict: false },
    ];
    const plain = await client.responses.create({ model: 'gemini', input: 'Read it', tools });
    const call = plain.output.find((item) => item.type === 'function_call');
    assert.equal(call?.type === 'function_call' ? call.name : undefined, DASHED_TOOL);
    assertAliasDeclared();

    upstream.reset();
    const stream = await client.responses.create({
      model: 'gemini',
      input: 'Read it',
      tools,
      stream: true,
    });
    const names: string[] = [];
    for await (const event of stream) {
      if (event.type === 'response.output_item.done' && event.item.type === 'function_call') {
        names.push(event.item.name);
      }
    }
    assert.deepEqual(names, [DASHED_TOOL]);
    assertAliasDeclared();
  });
});
