// A backend's stream may cut a multi-byte UTF-8 character between two network reads (a CJK
// character's 3 bytes, an emoji's 4). The client's text must come out exact, never with a
// U+FFFD where the cut fell: in the all-in-one gateway and through ingress, router and
// provider-adapter, for each backend format.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApp, startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

/** Two-, three- and four-byte characters, and a pair (flag) of astral ones. */
const PIECES = ['café ', '中文字 ', '😀🎉 ', '🇫🇷', ' done'];
const TEXT = PIECES.join('');

/**
 * The SSE body written so that every multi-byte character is cut at each of its inner byte
 * boundaries, each piece its own write with a pause between (Nagle off): the gateway's
 * reads see the character in parts.
 */
async function writeCut(response: ServerResponse, body: string): Promise<void> {
  response.socket?.setNoDelay(true);
  const bytes = Buffer.from(body, 'utf8');
  let start = 0;
  for (let cut = 1; cut < bytes.length; cut++) {
    if ((bytes[cut] & 0xc0) !== 0x80) continue; // not inside a character
    response.write(bytes.subarray(start, cut));
    start = cut;
    await sleep(2);
  }
  response.end(bytes.subarray(start));
}

function sse(events: readonly (readonly [string | undefined, unknown])[]): string {
  return events
    .map(([event, data]) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`)
    .join('');
}

function openAiBody(): string {
  const base = { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'm' };
  const chunk = (delta: object, finish: string | null = null) =>
    [undefined, { ...base, choices: [{ index: 0, delta, finish_reason: finish }] }] as const;
  return (
    sse([
      chunk({ role: 'assistant', content: '' }),
      ...PIECES.map((piece) => chunk({ content: piece })),
      chunk({}, 'stop'),
    ]) + 'data: [DONE]\n\n'
  );
}

function anthropicBody(): string {
  const usage = { input_tokens: 3, output_tokens: 5 };
  return sse([
    [
      'message_start',
      {
        type: 'message_start',
        message: {
          id: 'msg_x',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage,
        },
      },
    ],
    [
      'content_block_start',
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    ],
    ...PIECES.map(
      (text) =>
        [
          'content_block_delta',
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
        ] as const,
    ),
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    [
      'message_delta',
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 5 },
      },
    ],
    ['message_stop', { type: 'message_stop' }],
  ]);
}

function geminiBody(): string {
  return sse(
    PIECES.map((text, index) => [
      undefined,
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ text }] },
            index: 0,
            ...(index === PIECES.length - 1 ? { finishReason: 'STOP' } : {}),
          },
        ],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 5, totalTokenCount: 8 },
        modelVersion: 'gemini-2.5-flash',
      },
    ]),
  );
}

/** Answers each format's streaming call by its path, every character cut across writes. */
class CuttingUpstream {
  private readonly server: Server = createServer((request, response) => {
    void this.answer(request, response);
  });

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for await (const _ of request) void _;
    const url = request.url ?? '';
    const body = url.includes('/messages')
      ? anthropicBody()
      : url.includes(':streamGenerateContent')
        ? geminiBody()
        : openAiBody();
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    await writeCut(response, body);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The text of an OpenAI chat stream's content deltas. */
async function chatText(base: string, model: string): Promise<string> {
  const response = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream: true }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  let text = '';
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice(6)) as {
      choices?: { delta?: { content?: string } }[];
    };
    text += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return text;
}

/** The text of an Anthropic Messages stream's text deltas. */
async function messagesText(base: string, model: string): Promise<string> {
  const response = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  let text = '';
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6)) as { delta?: { text?: string } };
    text += event.delta?.text ?? '';
  }
  return text;
}

/** The text of a Gemini stream (SSE with alt=sse, else the JSON array). */
async function geminiText(base: string, model: string, alt: boolean): Promise<string> {
  const response = await fetch(
    `${base}/v1beta/models/${model}:streamGenerateContent${alt ? '?alt=sse' : ''}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    },
  );
  assert.equal(response.status, 200, await response.clone().text());
  const body = await response.text();
  type Part = { candidates?: { content?: { parts?: { text?: string }[] } }[] };
  const events: Part[] = alt
    ? body
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => JSON.parse(line.slice(6)) as Part)
    : (JSON.parse(body) as Part[]);
  return events
    .flatMap((event) => event.candidates?.[0]?.content?.parts ?? [])
    .map((part) => part.text ?? '')
    .join('');
}

function config(origin: string): string {
  return `kind: AIGatewayRoute
metadata: {name: cut}
spec:
  backends:
  - {name: openai, provider: openai, baseUrl: "${origin}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-4o-mini, modelNameOverride: cut-openai}
  - {name: claude, provider: anthropic, baseUrl: "${origin}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-sonnet-4-5, modelNameOverride: cut-claude}
  - {name: gemini, provider: google-gemini, baseUrl: "${origin}/v1beta", auth: {apiKeyRef: {name: gemini-key}}, model: gemini-2.5-flash, modelNameOverride: cut-gemini}
`;
}

const KEYS = {
  AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-test',
  AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
  AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'g-test',
};

type Shape = 'all-in-one' | 'split';

/** A deployment of one shape, on a cutting upstream of its own. */
class Deployment {
  readonly dir = mkdtempSync(join(tmpdir(), 'aigw-cut-'));
  readonly upstream = new CuttingUpstream();
  /** Its processes, as they start. */
  readonly apps: AppProcess[] = [];
  /** Its base URL once started. */
  readonly base: Promise<string>;

  constructor(readonly shape: Shape) {
    this.base = this.start();
    this.base.catch(() => undefined); // reported by the suite that awaits it
  }

  private async start(): Promise<string> {
    const file = join(this.dir, 'config.yaml');
    writeFileSync(file, config(await this.upstream.start()));
    const env = { AI_GATEWAY_CONFIG: file, ...KEYS };
    if (this.shape === 'split') {
      return (await startSplitDataPlane(env, this.dir, this.apps)).ingress.baseUrl;
    }
    const gateway = await startApp('gateway', { ...env, AI_GATEWAY_DATA_DIR: join(this.dir, 'd') });
    this.apps.push(gateway);
    return gateway.baseUrl;
  }

  async stop(): Promise<void> {
    await this.base.catch(() => undefined); // a start still going would leave processes behind
    await Promise.all(this.apps.map((app) => app.stop()));
    await this.upstream.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// Both started at once, not each in its suite's turn: the split's three processes take long.
const deployments = (['all-in-one', 'split'] as const).map((shape) => new Deployment(shape));
// At the file's end, as they were started: a suite's own hook would not run were its tests
// filtered out (--test-name-pattern), leaving its processes behind.
after(() => Promise.all(deployments.map((deployment) => deployment.stop())));

for (const deployment of deployments) {
  describe(`${deployment.shape}: a character cut across a backend stream's reads reaches the client whole`, () => {
    let base = '';

    before(async () => {
      base = await deployment.base;
    });

    it('OpenAI, Anthropic and Gemini backends, read as chat completions', async () => {
      assert.equal(await chatText(base, 'cut-openai'), TEXT);
      assert.equal(await chatText(base, 'cut-claude'), TEXT);
      assert.equal(await chatText(base, 'cut-gemini'), TEXT);
    });

    it('each in its own API: Anthropic Messages, Gemini SSE and JSON array', async () => {
      assert.equal(await messagesText(base, 'cut-claude'), TEXT);
      assert.equal(await geminiText(base, 'cut-gemini', true), TEXT);
      assert.equal(await geminiText(base, 'cut-gemini', false), TEXT);
    });
  });
}
