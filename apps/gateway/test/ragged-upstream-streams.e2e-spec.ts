// A backend's event stream as servers and proxies really send it, not as the reference
// does: a byte-order mark, CRLF lines, comments and `retry:`/`id:` fields, an event's JSON
// over two `data:` lines, empty `data:` events a proxy sends to keep the connection open,
// and the last event closed without the blank line after it, all cut into small network
// reads. Each client's stream must come out as from a tidy backend: its text whole, every
// event's data JSON, its one clean end (OpenAI's `[DONE]`, Anthropic's `message_stop`,
// Gemini's finish) last and once, and the usage the backend reported.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const PIECES = ['Grüße ', '中文 ', '😀', ' fin'];
const TEXT = PIECES.join('');
const INPUT_TOKENS = 3;
const OUTPUT_TOKENS = 5;

/** An event's name, if it has one, and its data: JSON, or a string sent as it is. */
type UpstreamEvent = readonly [name: string | undefined, data: object | string];

/** The events in the ragged framing this file is about (see the top of the file). */
function ragged(events: readonly UpstreamEvent[]): string {
  let text = '\uFEFF: a proxy says hello\r\nretry: 3000\r\n\r\n';
  events.forEach(([name, data], index) => {
    const json = typeof data === 'string' ? data : JSON.stringify(data);
    const comma = json.indexOf(',');
    // JSON allows the line break the second data line puts after the comma.
    const lines = comma === -1 ? [json] : [json.slice(0, comma + 1), json.slice(comma + 1)];
    if (name) text += `event: ${name}\r\n`;
    text += `id: ${index}\r\n${lines.map((line) => `data: ${line}\r\n`).join('')}`;
    if (index < events.length - 1) text += '\r\n: keep-alive\r\n\r\ndata:\r\n\r\n';
  });
  return text; // the last event's line ended, its blank line never sent
}

function openAiEvents(): UpstreamEvent[] {
  const base = { id: 'chatcmpl-r', object: 'chat.completion.chunk', created: 1, model: 'm' };
  const chunk = (fields: object): UpstreamEvent => [undefined, { ...base, ...fields }];
  const usage = {
    prompt_tokens: INPUT_TOKENS,
    completion_tokens: OUTPUT_TOKENS,
    total_tokens: INPUT_TOKENS + OUTPUT_TOKENS,
  };
  return [
    chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }),
    ...PIECES.map((content) => chunk({ choices: [{ index: 0, delta: { content } }] })),
    chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    chunk({ choices: [], usage }),
    [undefined, '[DONE]'],
  ];
}

function anthropicEvents(): UpstreamEvent[] {
  const event = (data: { type: string }): UpstreamEvent => [data.type, data];
  return [
    event({
      type: 'message_start',
      message: {
        id: 'msg_r',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        usage: { input_tokens: INPUT_TOKENS, output_tokens: 1 },
      },
    } as { type: string }),
    event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } as {
      type: string;
    }),
    ...PIECES.map((text) =>
      event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } as {
        type: string;
      }),
    ),
    event({ type: 'content_block_stop', index: 0 } as { type: string }),
    event({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: OUTPUT_TOKENS },
    } as { type: string }),
    event({ type: 'message_stop' }),
  ];
}

function geminiEvents(): UpstreamEvent[] {
  return PIECES.map((text, index) => {
    const last = index === PIECES.length - 1;
    return [
      undefined,
      {
        candidates: [
          {
            index: 0,
            content: { role: 'model', parts: [{ text }] },
            ...(last && { finishReason: 'STOP' }),
          },
        ],
        usageMetadata: {
          promptTokenCount: INPUT_TOKENS,
          candidatesTokenCount: last ? OUTPUT_TOKENS : index + 1,
          totalTokenCount: INPUT_TOKENS + (last ? OUTPUT_TOKENS : index + 1),
        },
      },
    ];
  });
}

/** Writes `body` in pieces of 7 bytes, each its own write after a pause (Nagle off). */
async function writeInPieces(response: ServerResponse, body: string): Promise<void> {
  response.socket?.setNoDelay(true);
  const bytes = Buffer.from(body, 'utf8');
  for (let at = 0; at < bytes.length; at += 7) {
    response.write(bytes.subarray(at, at + 7));
    await sleep(1);
  }
  response.end();
}

const upstream = createServer((request: IncomingMessage, response: ServerResponse) => {
  void (async () => {
    for await (const _ of request) void _;
    const url = request.url ?? '';
    const events = url.includes('/messages')
      ? anthropicEvents()
      : url.includes(':streamGenerateContent')
        ? geminiEvents()
        : openAiEvents();
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    await writeInPieces(response, ragged(events));
  })();
});

/** The `data:` payloads of an SSE body, each parsed (a line that is not JSON fails). */
function dataOf(body: string): unknown[] {
  return body
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice('data: '.length)) as unknown);
}

async function post(url: string, body: object, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return text;
}

describe("a backend's ragged but whole event stream, through the all-in-one gateway", () => {
  let dir = '';
  let gateway: AppProcess | undefined;
  let base = '';

  before(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'aigw-ragged-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `kind: AIGatewayRoute
metadata: {name: ragged}
spec:
  backends:
  - {name: openai, provider: openai, baseUrl: "${origin}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-4o-mini, modelNameOverride: ragged-openai}
  - {name: claude, provider: anthropic, baseUrl: "${origin}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-sonnet-4-5, modelNameOverride: ragged-claude}
  - {name: gemini, provider: google-gemini, baseUrl: "${origin}/v1beta", auth: {apiKeyRef: {name: gemini-key}}, model: gemini-2.5-flash, modelNameOverride: ragged-gemini}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: file,
      AI_GATEWAY_DATA_DIR: join(dir, 'd'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-test',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'g-test',
    });
    base = gateway.baseUrl;
  });

  after(async () => {
    await gateway?.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const model of ['ragged-openai', 'ragged-claude', 'ragged-gemini']) {
    it(`${model}, read as chat completions: the text, the usage, then [DONE] once`, async () => {
      const body = await post(`${base}/v1/chat/completions`, {
        model,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      type Chunk = {
        choices: { delta?: { content?: string }; finish_reason?: string | null }[];
        usage?: { prompt_tokens: number; completion_tokens: number } | null;
      };
      const chunks = dataOf(body) as Chunk[];
      assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join(''), TEXT);
      assert.deepEqual(
        chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason ?? [])).flat(),
        ['stop'],
      );
      const usage = chunks.at(-1)?.usage;
      assert.equal(usage?.prompt_tokens, INPUT_TOKENS);
      assert.equal(usage?.completion_tokens, OUTPUT_TOKENS);
      assert.equal(body.split('data: [DONE]').length - 1, 1, 'one [DONE]');
      assert.ok(body.trimEnd().endsWith('data: [DONE]'), 'the [DONE] last');
    });
  }

  it('the Anthropic backend, read as Messages: the text, the usage, then message_stop once', async () => {
    const body = await post(
      `${base}/v1/messages`,
      {
        model: 'ragged-claude',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      },
      { 'anthropic-version': '2023-06-01' },
    );
    type Event = {
      type: string;
      delta?: { text?: string };
      usage?: { input_tokens: number; output_tokens: number };
    };
    const events = dataOf(body) as Event[];
    assert.equal(events.map((event) => event.delta?.text ?? '').join(''), TEXT);
    // The edge knows the usage once the answer is done: message_delta carries all of it.
    const final = events.find((event) => event.type === 'message_delta');
    assert.equal(final?.usage?.input_tokens, INPUT_TOKENS);
    assert.equal(final?.usage?.output_tokens, OUTPUT_TOKENS);
    assert.equal(events.filter((event) => event.type === 'message_stop').length, 1);
    assert.equal(events.at(-1)?.type, 'message_stop');
    assert.ok(!events.some((event) => event.type === 'error'), body);
  });

  it('the Gemini backend, read as Gemini SSE: the text, then the finish with the usage', async () => {
    const body = await post(`${base}/v1beta/models/ragged-gemini:streamGenerateContent?alt=sse`, {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    });
    type Event = {
      candidates?: { content?: { parts?: { text?: string }[] }; finishReason?: string }[];
      usageMetadata?: { promptTokenCount: number; candidatesTokenCount: number };
      error?: unknown;
    };
    const events = dataOf(body) as Event[];
    const parts = events.flatMap((event) => event.candidates?.[0]?.content?.parts ?? []);
    assert.equal(parts.map((part) => part.text ?? '').join(''), TEXT);
    const finishes = events.flatMap((event) => event.candidates?.[0]?.finishReason ?? []);
    assert.deepEqual(finishes, ['STOP']);
    assert.equal(events.at(-1)?.usageMetadata?.promptTokenCount, INPUT_TOKENS);
    assert.equal(events.at(-1)?.usageMetadata?.candidatesTokenCount, OUTPUT_TOKENS);
    assert.ok(!events.some((event) => event.error !== undefined), body);
  });
});
