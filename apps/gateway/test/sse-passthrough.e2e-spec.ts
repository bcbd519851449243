// SSE is passed through as it arrives: a chunk the upstream has sent reaches the client
// while the upstream still holds the rest of its answer back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';

/**
 * An OpenAI-compatible upstream whose stream sends its first content chunk, then holds
 * the connection open, sending nothing, until `release()`; then it finishes the answer.
 */
class HeldStreamUpstream {
  private readonly server: Server;
  private releaseHeld: (() => void) | undefined;
  private readonly released: Promise<void>;
  /** Whether the first chunk was written and the stream is waiting for `release()`. */
  holding = false;

  constructor() {
    this.released = new Promise((resolveRelease) => (this.releaseHeld = resolveRelease));
    this.server = createServer((request, response) => {
      request.resume();
      request.once('end', () => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const base = {
          id: 'chatcmpl-held',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'm',
        };
        const send = (delta: object, finish: string | null = null) =>
          response.write(
            `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
          );
        send({ role: 'assistant', content: '' });
        send({ content: 'chunk-one' });
        this.holding = true;
        void this.released.then(() => {
          this.holding = false;
          send({ content: ' chunk-two' });
          send({}, 'stop');
          response.end('data: [DONE]\n\n');
        });
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolveListen) => this.server.listen(0, '127.0.0.1', resolveListen));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  release(): void {
    this.releaseHeld?.();
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolveClose) => this.server.close(() => resolveClose()));
  }
}

/** The next read of the stream, or a failure naming `what` after a generous deadline. */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  what: string,
): Promise<Awaited<ReturnType<typeof reader.read>>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20_000);
  });
  try {
    return await Promise.race([reader.read(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('all-in-one gateway: SSE passed through as it arrives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-sse-'));
  const upstream = new HeldStreamUpstream();
  let gateway: AppProcess;

  before(async () => {
    const baseUrl = await upstream.start();
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: sse}
spec:
  backends:
  - {name: held, provider: vllm, baseUrl: ${baseUrl}, model: m, modelNameOverride: held-model}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the first chunk to the client while the upstream holds the rest', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'held-model',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    try {
      while (!received.includes('chunk-one')) {
        const { done, value } = await readWithin(reader, 'chunk 1 before the release');
        assert.equal(done, false, `the stream ended before chunk 1: ${received}`);
        received += decoder.decode(value, { stream: true });
      }
      // Chunk 1 is here and the upstream has not been let go: nothing waited for the end.
      assert.equal(upstream.holding, true, 'the upstream still holds its stream');
      assert.doesNotMatch(received, /chunk-two|\[DONE\]/);
      assert.match(received, /"model":"held-model"/);

      upstream.release();
      for (;;) {
        const { done, value } = await readWithin(reader, 'the rest after the release');
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
    } finally {
      upstream.release();
      await reader.cancel().catch(() => undefined);
    }
    assert.match(received, /chunk-one[\s\S]*chunk-two[\s\S]*data: \[DONE\]/);
  });
});
