import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HALF_ANSWER_STARTED } from './half-answer-stream';

/**
 * An OpenAI-compatible backend that never answers a JSON call and stalls a stream after
 * its first chunks (HALF_ANSWER_STARTED): only the caller hanging up ends a call. For the
 * suites about what the gateway does with calls that outlast something (a stop's drain).
 */
export class HangingUpstream {
  /** Calls received. */
  calls = 0;
  private readonly open = new Set<ServerResponse>();
  private readonly server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      this.calls++;
      this.open.add(response);
      response.once('close', () => this.open.delete(response));
      if (!(JSON.parse(body) as { stream?: boolean }).stream) return; // no answer at all
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const event of HALF_ANSWER_STARTED) {
        response.write(`data: ${JSON.stringify(event)}\n\n`);
      }
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** The OpenAI-style base URL (with `/v1`). */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Calls the caller has not hung up yet. */
  get waiting(): number {
    return this.open.size;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A stream through the gateway from a HangingUpstream: its text once the first chunks
 * arrived, then `stop` (a signal to a gateway process), then all it sends until it ends.
 */
export async function streamReadThroughStop(response: Response, stop: () => void): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('Half an')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended before its first chunks: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  stop();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
}
