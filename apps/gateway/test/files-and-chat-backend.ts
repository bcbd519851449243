import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeBatchBackend, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';

type Json = Record<string, unknown>;

/**
 * One OpenAI backend that holds files (the Files API fake) and answers chat completions
 * (the chat fake), as api.openai.com does at one base URL.
 */
export class FilesAndChatBackend {
  readonly files = new FakeBatchBackend();
  readonly chat = new FakeOpenAiUpstream('openai');
  private readonly server: Server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const to = request.url?.startsWith('/v1/files') ? this.files.baseUrl : this.chat.baseUrl;
      const answer = await fetch(to.replace(/\/v1$/, '') + request.url, {
        method: request.method,
        headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      response.end(Buffer.from(await answer.arrayBuffer()));
    })().catch(() => response.destroy());
  });
  baseUrl = '';

  async start(): Promise<void> {
    await Promise.all([this.files.start(), this.chat.start()]);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([this.files.stop(), this.chat.stop()]);
  }

  /** The chat requests the backend got, as sent. */
  chatBodies(): Json[] {
    return this.chat.calls.map((call) => call.body);
  }
}

/** The file parts of the last user message of a chat request. */
export const fileParts = (body: Json): Json[] => {
  const messages = body.messages as { role: string; content: unknown }[];
  const last = messages.filter((m) => m.role === 'user').at(-1)!;
  return (last.content as Json[]).filter((part) => part.type === 'file');
};
