import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What each succeeded request of a fake batch used. */
export const FAKE_MESSAGE_USAGE = { input_tokens: 100, output_tokens: 50 } as const;

/** One call the fake received: what the gateway sent. */
export interface FakeBatchCall {
  readonly method: string;
  readonly path: string;
  readonly apiKey: string | undefined;
  readonly version: string | undefined;
  readonly authorization: string | undefined;
  readonly beta: string | undefined;
  readonly body: unknown;
}

interface FakeBatch {
  readonly id: string;
  readonly requests: readonly { custom_id: string; params: Record<string, unknown> }[];
  status: 'in_progress' | 'ended';
  cancelled: boolean;
  readonly createdAt: string;
}

/**
 * Anthropic's Message Batches API as documented, kept in memory: a batch ends the first
 * time it is retrieved (every request succeeded, but one whose custom_id starts with `err`)
 * and its results name the model each request was sent with. A cancelled batch ends with
 * every request canceled.
 */
export class FakeAnthropicBatches {
  readonly calls: FakeBatchCall[] = [];
  private readonly batches = new Map<string, FakeBatch>();
  private server?: Server;
  private next = 0;
  baseUrl = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '';
    const header = (name: string) => request.headers[name] as string | undefined;
    this.calls.push({
      method: request.method ?? '',
      path,
      apiKey: header('x-api-key'),
      version: header('anthropic-version'),
      authorization: header('authorization'),
      beta: header('anthropic-beta'),
      body: text === '' ? undefined : JSON.parse(text),
    });
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string) =>
      json(status, { type: 'error', error: { type, message } });
    if (request.method === 'POST' && path === '/v1/messages/batches') {
      const id = `msgbatch_${++this.next}`;
      const { requests } = JSON.parse(text) as Pick<FakeBatch, 'requests'>;
      const batch: FakeBatch = {
        id,
        requests,
        status: 'in_progress',
        cancelled: false,
        createdAt: new Date().toISOString(),
      };
      this.batches.set(id, batch);
      return json(200, this.shown(batch));
    }
    const match = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/.exec(path);
    const batch = match ? this.batches.get(match[1]) : undefined;
    if (!match || !batch) return error(404, 'not_found_error', 'Not found');
    const action = match[2];
    if (request.method === 'GET' && action === undefined) {
      batch.status = 'ended';
      return json(200, this.shown(batch));
    }
    if (request.method === 'POST' && action === '/cancel') {
      if (batch.status === 'in_progress') {
        batch.cancelled = true;
        batch.status = 'ended';
      }
      return json(200, this.shown(batch));
    }
    if (request.method === 'GET' && action === '/results') {
      if (batch.status !== 'ended') {
        return error(400, 'invalid_request_error', `Batch ${batch.id} is still processing`);
      }
      response.writeHead(200, { 'content-type': 'application/binary' });
      response.end(
        batch.requests.map((one) => `${JSON.stringify(this.result(batch, one))}\n`).join(''),
      );
      return;
    }
    if (request.method === 'DELETE' && action === undefined) {
      if (batch.status !== 'ended') {
        return error(400, 'invalid_request_error', 'Batches must end before they are deleted');
      }
      this.batches.delete(batch.id);
      return json(200, { id: batch.id, type: 'message_batch_deleted' });
    }
    return error(405, 'invalid_request_error', 'Method not allowed');
  }

  private shown(batch: FakeBatch): Record<string, unknown> {
    const ended = batch.status === 'ended';
    const failing = batch.requests.filter((one) => one.custom_id.startsWith('err')).length;
    const all = batch.requests.length;
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status: batch.status,
      request_counts: {
        processing: ended ? 0 : all,
        succeeded: ended && !batch.cancelled ? all - failing : 0,
        errored: ended && !batch.cancelled ? failing : 0,
        canceled: ended && batch.cancelled ? all : 0,
        expired: 0,
      },
      ended_at: ended ? new Date().toISOString() : null,
      created_at: batch.createdAt,
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      archived_at: null,
      cancel_initiated_at: batch.cancelled ? new Date().toISOString() : null,
      results_url: ended ? `${this.baseUrl}/v1/messages/batches/${batch.id}/results` : null,
    };
  }

  private result(
    batch: FakeBatch,
    one: FakeBatch['requests'][number],
  ): { custom_id: string; result: Record<string, unknown> } {
    const model = String(one.params.model);
    if (batch.cancelled) return { custom_id: one.custom_id, result: { type: 'canceled' } };
    if (one.custom_id.startsWith('err')) {
      return {
        custom_id: one.custom_id,
        result: {
          type: 'errored',
          error: {
            type: 'error',
            error: { type: 'invalid_request_error', message: `${model}: prompt is too long` },
          },
        },
      };
    }
    return {
      custom_id: one.custom_id,
      result: {
        type: 'succeeded',
        message: {
          id: `msg_${one.custom_id}`,
          type: 'message',
          role: 'assistant',
          model,
          content: [{ type: 'text', text: `answer to ${one.custom_id}` }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { ...FAKE_MESSAGE_USAGE },
        },
      },
    };
  }
}
