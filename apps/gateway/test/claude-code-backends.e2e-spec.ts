import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import {
  FakeAnthropicUpstream,
  FakeBedrockUpstream,
  FakeOpenAiToolUpstream,
} from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { MCP_TOOL, QUERY_INPUT } from './claude-code-tools';
import { startOnClaudeBedrockBackend } from './claude-on-bedrock';

// What Claude Code sends through the official SDK that only some backends take: one
// gateway with an Anthropic backend and an OpenAI-format one, each reached by its model.

describe('Claude Code requests on Anthropic and OpenAI-format backends', () => {
  const claude = new FakeAnthropicUpstream();
  const openai = new FakeOpenAiToolUpstream();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await Promise.all([claude.start(), openai.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: claude-code-backends}
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

  it('calls an MCP tool of a name past 64 characters on an Anthropic backend, plain and streamed', async () => {
    assert.ok(MCP_TOOL.length > 64 && MCP_TOOL.length <= 128, String(MCP_TOOL.length));
    claude.reset();
    const ask = {
      model: 'claude-direct',
      max_tokens: 256,
      tools: [{ name: MCP_TOOL, description: 'Search the docs', input_schema: QUERY_INPUT }],
      messages: [{ role: 'user' as const, content: 'Find the install guide' }],
    };
    const message = await client.messages.create(ask);
    const called = message.content.find((block) => block.type === 'tool_use');
    assert.equal(called?.name, MCP_TOOL);
    const streamed = await client.messages.stream(ask).finalMessage();
    assert.equal(streamed.content.find((block) => block.type === 'tool_use')?.name, MCP_TOOL);
    assert.equal(claude.calls.length, 2);
    for (const call of claude.calls) {
      assert.deepEqual(
        (call.body.tools as { name: string }[]).map((tool) => tool.name),
        [MCP_TOOL],
      );
    }
  });

  it('passes a PDF by URL to an Anthropic backend to fetch, and refuses it by name on an OpenAI one', async () => {
    const url = 'https://example.com/handbook.pdf';
    const messages: Anthropic.MessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'document', title: 'handbook', source: { type: 'url', url } },
          { type: 'text', text: 'Summarise the handbook' },
        ],
      },
    ];
    claude.reset();
    const message = await client.messages.create({
      model: 'claude-direct',
      max_tokens: 256,
      messages,
    });
    assert.equal(message.type, 'message');
    const sent = claude.calls[0]?.body.messages as { content: unknown[] }[];
    assert.deepEqual(sent[0]?.content[0], {
      type: 'document',
      source: { type: 'url', url },
      title: 'handbook',
    });

    openai.reset();
    const failure = await client.messages
      .create({ model: 'claude-on-openai', max_tokens: 256, messages })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(failure instanceof Anthropic.BadRequestError, String(failure));
    assert.equal(failure.type, 'invalid_request_error');
    assert.match(failure.message, /cannot take a PDF document by URL/);
    assert.equal(openai.calls.length, 0);
  });

  it("keeps Claude Code's caching marks on tool_use and tool_result blocks for Anthropic, not for OpenAI", async () => {
    const mark = { type: 'ephemeral' as const };
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'List the files' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'ls', input: {}, cache_control: mark }],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_1',
            content: [{ type: 'text', text: 'a.txt', cache_control: mark }],
          },
        ],
      },
    ];
    const tools = [{ name: 'ls', input_schema: QUERY_INPUT }];
    claude.reset();
    await client.messages.create({ model: 'claude-direct', max_tokens: 256, tools, messages });
    await client.messages
      .stream({ model: 'claude-direct', max_tokens: 256, tools, messages })
      .finalMessage();
    assert.equal(claude.calls.length, 2);
    for (const call of claude.calls) {
      const sent = call.body.messages as { content: Record<string, unknown>[] }[];
      assert.equal(sent[1]?.content[0]?.type, 'tool_use');
      assert.deepEqual(sent[1]?.content[0]?.cache_control, mark);
      assert.equal(sent[2]?.content[0]?.type, 'tool_result');
      assert.deepEqual(sent[2]?.content[0]?.cache_control, mark);
    }

    openai.reset();
    await client.messages.create({ model: 'claude-on-openai', max_tokens: 256, tools, messages });
    assert.equal(openai.calls.length, 1);
    assert.doesNotMatch(JSON.stringify(openai.calls[0]?.body), /cache_control/);
  });

  it('calls that tool on an OpenAI backend (64 at most) by a short alias, answering with its own name, plain and streamed', async () => {
    openai.reset();
    const ask = {
      model: 'claude-on-openai',
      max_tokens: 256,
      tools: [{ name: MCP_TOOL, input_schema: QUERY_INPUT }],
      messages: [{ role: 'user' as const, content: 'Find the install guide' }],
    };
    const message = await client.messages.create(ask);
    const called = message.content.find((block) => block.type === 'tool_use');
    assert.equal(called?.name, MCP_TOOL);
    const streamed = await client.messages.stream(ask).finalMessage();
    assert.equal(streamed.content.find((block) => block.type === 'tool_use')?.name, MCP_TOOL);
    // The next turn carries the call back: the backend sees the alias there too.
    const answer = await client.messages.create({
      ...ask,
      messages: [
        ...ask.messages,
        { role: 'assistant', content: message.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: called?.id ?? '', content: 'found' }],
        },
      ],
    });
    assert.equal(answer.type, 'message');
    assert.equal(openai.calls.length, 3);
    const sentNames = openai.calls.map((call) =>
      (call.body.tools as { function: { name: string } }[]).map((tool) => tool.function.name),
    );
    const [alias] = sentNames[0] ?? [];
    assert.ok(alias !== undefined && alias.length <= 64 && alias !== MCP_TOOL, String(alias));
    assert.deepEqual(sentNames, [[alias], [alias], [alias]]);
    const history = openai.calls[2]?.body.messages as {
      tool_calls?: { function: { name: string } }[];
    }[];
    assert.equal(history.find((turn) => turn.tool_calls)?.tool_calls?.[0]?.function.name, alias);
    assert.doesNotMatch(
      JSON.stringify(openai.calls.map((call) => call.body)),
      new RegExp(MCP_TOOL),
    );
  });
});

describe('Claude Code requests on a Bedrock backend (Converse: tool names of 64 at most)', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLETOOLS',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLETOOLS',
  };
  const upstream = new FakeBedrockUpstream(credentials);
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await upstream.start();
    gateway = await startOnClaudeBedrockBackend(upstream, credentials, 'claude-code-bedrock');
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('calls an MCP tool of a name past 64 characters by a short alias, answering with its own name, plain and streamed', async () => {
    upstream.reset();
    const ask = {
      model: 'claude',
      max_tokens: 256,
      tools: [{ name: MCP_TOOL, input_schema: QUERY_INPUT }],
      messages: [{ role: 'user' as const, content: 'Find the install guide' }],
    };
    const message = await client.messages.create(ask);
    assert.equal(message.content.find((block) => block.type === 'tool_use')?.name, MCP_TOOL);
    const streamed = await client.messages.stream(ask).finalMessage();
    assert.equal(streamed.content.find((block) => block.type === 'tool_use')?.name, MCP_TOOL);
    assert.equal(upstream.calls.length, 2);
    for (const call of upstream.calls) {
      const [spec] = (call.body.toolConfig as { tools: { toolSpec: { name: string } }[] }).tools;
      assert.ok(spec && spec.toolSpec.name.length <= 64, JSON.stringify(spec));
      assert.doesNotMatch(JSON.stringify(call.body), new RegExp(MCP_TOOL));
    }
  });
});
