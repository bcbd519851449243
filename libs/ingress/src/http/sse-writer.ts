import type { ServerResponse } from 'node:http';
import type { DataPlaneError, JsonObject } from '@aigw/contracts/data-plane';
import { untilWritable } from '@aigw/infra/http';

/** Writes OpenAI-style server-sent events, respecting the socket's backpressure. */
export class SseWriter {
  constructor(private readonly response: ServerResponse) {}

  start(headers: Record<string, string>): void {
    this.response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.response.flushHeaders();
  }

  async event(data: JsonObject): Promise<void> {
    if (!this.response.write(`data: ${JSON.stringify(data)}\n\n`)) {
      await untilWritable(this.response);
    }
  }

  /** A clean end: the `[DONE]` sentinel OpenAI clients wait for. */
  done(): void {
    this.response.end('data: [DONE]\n\n');
  }

  /** An explicit error event, so a broken stream never looks like a finished one. */
  fail(error: DataPlaneError): void {
    this.response.end(`data: ${JSON.stringify(error.toOpenAiBody())}\n\n`);
  }
}
