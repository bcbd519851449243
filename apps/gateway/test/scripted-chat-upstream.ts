import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Writes the answer to one chat call, given its parsed JSON body. */
export type ChatAnswer = (body: Record<string, unknown>, response: ServerResponse) => void;

/**
 * An OpenAI-compatible backend on loopback whose answers a spec writes itself, for what
 * FakeOpenAiUpstream does not send; it records each request body.
 */
export class ScriptedChatUpstream {
  readonly bodies: Record<string, unknown>[] = [];
  private readonly server: Server;

  constructor(answer: ChatAnswer) {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        this.bodies.push(body);
        answer(body, response);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** The OpenAI API root, `/v1`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
