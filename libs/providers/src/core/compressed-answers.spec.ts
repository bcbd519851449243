import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import {
  DataPlaneError,
  type GatewayRequest,
  type JsonAnswer,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';

// A backend behind a proxy may compress its answers though the gateway never asks it to;
// they are decoded like any other answer (a gzipped body had been read as garbage: a bad
// response, and a stream that "closed before it finished").

const COMPLETION = {
  id: 'c1',
  object: 'chat.completion',
  created: 1,
  model: 'served-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
};
const CHUNKS = [
  { choices: [{ index: 0, delta: { content: 'hel' } }] },
  { choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] },
  { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
].map((chunk) => ({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', ...chunk }));
const SSE = `${CHUNKS.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')}data: [DONE]\n\n`;

function request(stream: boolean): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'gpt-4',
    stream,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-4', stream, messages: [{ role: 'user', content: 'hi' }] },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

describe('answers a backend compresses without being asked', () => {
  let server: Server;
  let target: UpstreamTarget;
  let encodingAsked: string | undefined;
  const adapter = new OpenAiCompatibleAdapter();

  before(async () => {
    server = createServer((req, res) => {
      encodingAsked = req.headers['accept-encoding'];
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { stream?: boolean; messages: { content: string }[] };
        const ask = body.messages[0]?.content;
        if (ask === 'refuse') {
          const error = {
            error: { message: 'max_tokens is too large', type: 'invalid_request_error' },
          };
          res.writeHead(400, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(gzipSync(JSON.stringify(error)));
        } else if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
          res.end(gzipSync(SSE));
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
          res.end(brotliCompressSync(JSON.stringify(COMPLETION)));
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    target = {
      backendName: 'compressing',
      provider: 'vllm',
      model: 'served-model',
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      requestTimeoutMs: 2_000,
      firstByteTimeoutMs: 1_000,
    };
  });
  after(() => server.close());

  const call = (req: GatewayRequest) =>
    adapter.invoke({ request: req, target, signal: new AbortController().signal });

  it('reads a br-compressed JSON answer', async () => {
    const answer = (await call(request(false))) as JsonAnswer;
    assert.equal(answer.kind, 'json');
    const choice = (answer.body.choices as { message: { content: string } }[])[0];
    assert.equal(choice?.message.content, 'hi');
    assert.equal(answer.usage.inputTokens, 5);
    assert.equal(encodingAsked, undefined, 'the gateway does not ask for compression');
  });

  it('reads a gzip-compressed stream to its end, usage included', async () => {
    const answer = (await call(request(true))) as StreamAnswer;
    let text = '';
    for await (const chunk of answer.events) {
      const choices = chunk.choices as { delta?: { content?: string } }[];
      text += choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, 'hello');
    assert.equal((await answer.usage).outputTokens, 2);
  });

  it("keeps a compressed error body's message", async () => {
    const refused = request(false);
    const asked = {
      ...refused,
      body: { ...refused.body, messages: [{ role: 'user', content: 'refuse' }] },
    };
    await assert.rejects(
      call(asked),
      (error: unknown) =>
        error instanceof DataPlaneError && /max_tokens is too large/.test(error.message),
    );
  });
});
