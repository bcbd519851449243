// Connections that never become a request we could route: a body trickled past the
// receive timeout, headers past Node's limit, bytes that are not HTTP. Each is answered
// in OpenAI's error shape, closed and counted, and the gateway goes on serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { eventually, metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayOnOneBackend, type AppProcess } from '@aigw/testing/processes';

const RECEIVE_TIMEOUT_MS = 1_000;

interface RawExchange {
  readonly response: string;
  readonly closedAfterMs: number;
}

/** Writes `parts` on a fresh connection, `gapMs` apart, and reads until the server closes it. */
function rawExchange(port: number, parts: readonly string[], gapMs = 0): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection stayed open; read so far: ${response}`));
    }, 15_000);
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('utf8')));
    socket.on('error', () => undefined); // a reset after the answer is still a close
    socket.on('close', () => {
      clearTimeout(guard);
      clearTimeout(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
    let next = 0;
    const writeNext = () => {
      if (next >= parts.length || socket.destroyed) return;
      socket.write(parts[next++]);
      timer = setTimeout(writeNext, gapMs);
    };
    socket.on('connect', writeNext);
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
}

function openAiErrorOf(response: string): { message: string; type: string; code: string } {
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  return (JSON.parse(body) as { error: { message: string; type: string; code: string } }).error;
}

describe('all-in-one gateway: connections that never become a request', () => {
  let upstream: FakeOpenAiUpstream;
  let gateway: AppProcess;

  before(async () => {
    upstream = await new FakeOpenAiUpstream().start();
    gateway = await startGatewayOnOneBackend(upstream.baseUrl, {
      AI_GATEWAY_REQUEST_RECEIVE_TIMEOUT_MS: String(RECEIVE_TIMEOUT_MS),
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  const clientErrors = async (reason: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    return metricSum(text, 'ai_gateway_client_errors_total', { reason });
  };

  const chat = (body: string) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

  it('answers a body trickled past the receive timeout with a 408, closes it and keeps serving', async () => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const head =
      'POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n' +
      `content-length: ${body.length}\r\n\r\n`;
    // A byte every 300 ms: never idle for long, but the whole request takes far too long.
    const trickle = [head, ...body.slice(0, 12).split('')];
    const exchange = await rawExchange(gateway.port, trickle, 300);

    assert.equal(statusOf(exchange.response), 408, exchange.response);
    const error = openAiErrorOf(exchange.response);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.code, 'request_timeout');
    assert.ok(exchange.closedAfterMs < 10_000, `closed after ${exchange.closedAfterMs} ms`);
    assert.equal(await clientErrors('timeout'), 1);
    assert.equal(upstream.calls.length, 0, 'nothing reached the provider');
    assert.equal((await chat(body)).status, 200, 'the gateway goes on serving');
  });

  it('bounds only the receiving: an answer slower than the receive timeout still arrives', async () => {
    upstream.next({ kind: 'delay', ms: RECEIVE_TIMEOUT_MS * 3 });
    const response = await chat(
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] }),
    );
    assert.equal(response.status, 200);
    assert.match(await response.text(), /chat\.completion/);
  });

  it('answers headers past the limit with a 431 in OpenAI shape', async () => {
    const exchange = await rawExchange(gateway.port, [
      `GET /v1/models HTTP/1.1\r\nhost: gateway\r\nx-padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    ]);
    assert.equal(statusOf(exchange.response), 431, exchange.response);
    assert.equal(openAiErrorOf(exchange.response).code, 'request_headers_too_large');
    assert.equal(await clientErrors('headers-too-large'), 1);
  });

  it('answers bytes that are not HTTP with a 400 in OpenAI shape', async () => {
    const exchange = await rawExchange(gateway.port, ['HELLO\x00 THERE\r\n\r\n']);
    assert.equal(statusOf(exchange.response), 400, exchange.response);
    const error = openAiErrorOf(exchange.response);
    assert.equal(error.code, 'invalid_http');
    assert.doesNotMatch(exchange.response, /statusCode/, "not Fastify's own error shape");
    assert.equal(await clientErrors('malformed'), 1);
    assert.equal((await fetch(`${gateway.baseUrl}/v1/models`)).status, 200);
  });

  it('counts a client that hangs up halfway through sending a request, and answers no one', async () => {
    const before = await clientErrors('aborted');
    await new Promise<void>((resolve) => {
      const socket = connect(gateway.port, '127.0.0.1', () => {
        socket.end(
          'POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n' +
            'content-length: 500\r\n\r\n{"model":',
        );
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      socket.resume();
    });
    // Counted when the gateway sees the close, in its own time on a loaded machine.
    const aborted = await eventually(
      'the hang-up is counted',
      async () => {
        const now = await clientErrors('aborted');
        return now === before ? undefined : now;
      },
      { everyMs: 50 },
    );
    assert.equal(aborted, before + 1);
    assert.equal(await clientErrors('malformed'), 1, 'not taken for bytes that are not HTTP');
  });
});
