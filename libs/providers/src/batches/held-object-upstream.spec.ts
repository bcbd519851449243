import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { until } from '@aigw/testing';
import { HeldObjectUpstream, heldObjectUrl } from './held-object-upstream';

describe('Files and Batch API URLs', () => {
  it("puts OpenAI's under its base URL", () => {
    assert.equal(
      heldObjectUrl({ provider: 'openai' }, '/files'),
      'https://api.openai.com/v1/files',
    );
    assert.equal(
      heldObjectUrl({ provider: 'openai', baseUrl: 'http://fake:8080/v1/' }, '/batches/b1/cancel'),
      'http://fake:8080/v1/batches/b1/cancel',
    );
  });

  it("puts Azure OpenAI's under /openai with the api-version, or /openai/v1 for the v1 API", () => {
    const resource = 'https://res.openai.azure.com';
    assert.equal(
      heldObjectUrl({ provider: 'azure', baseUrl: resource }, '/files', {}),
      `${resource}/openai/files?api-version=2024-10-21`,
    );
    assert.equal(
      heldObjectUrl(
        { provider: 'azure', baseUrl: `${resource}/openai?api-version=2025-04-01-preview` },
        '/batches',
        {},
      ),
      `${resource}/openai/batches?api-version=2025-04-01-preview`,
    );
    assert.equal(
      heldObjectUrl({ provider: 'azure', baseUrl: resource }, '/files/f1/content', {
        AZURE_OPENAI_API_VERSION: 'v1',
      }),
      `${resource}/openai/v1/files/f1/content`,
    );
    assert.equal(
      heldObjectUrl(
        { provider: 'azure', baseUrl: `${resource}/openai/v1?api-version=v1` },
        '/batches',
        {},
      ),
      `${resource}/openai/v1/batches`,
    );
    assert.throws(() => heldObjectUrl({ provider: 'azure' }, '/files', {}), /needs baseUrl/);
  });
});

describe('a file content streamed from its backend', () => {
  const LINES = Array.from(
    { length: 200 },
    (_, i) => `{"custom_id":"${i}","x":"${'é'.repeat(500)}"}\n`,
  );
  let closedEarly = 0;
  let stalled: ServerResponse | undefined;
  let held: ServerResponse | undefined;
  let heldClosed = 0;
  const server = createServer((request, response) => {
    const path = request.url ?? '';
    if (path === '/v1/files/big/content') {
      response.writeHead(200, { 'content-type': 'application/jsonl' });
      let at = 0;
      // One line per write, some delay between: many chunks reach the gateway.
      const next = () => {
        if (at === LINES.length) return void response.end();
        response.write(LINES[at++]);
        setTimeout(next, at % 50 === 0 ? 5 : 0);
      };
      next();
      return;
    }
    if (path === '/v1/files/endless/content') {
      response.writeHead(200, { 'content-type': 'application/jsonl' });
      response.on('close', () => closedEarly++);
      const timer = setInterval(() => response.write(LINES[0]), 1);
      response.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/v1/files/hold/content') {
      response.writeHead(200, { 'content-type': 'application/jsonl' });
      response.write(LINES[0]);
      response.on('close', () => heldClosed++);
      held = response;
      return;
    }
    if (path === '/v1/files/stall/content') {
      response.writeHead(200, { 'content-type': 'application/jsonl' });
      response.write(LINES[0]);
      stalled = response;
      return;
    }
    if (path === '/v1/files/quota/content') {
      response.writeHead(429, { 'content-type': 'application/json' });
      const message = `Enqueued token limit reached in organization org-AbCdEf123456 (project proj_Zy9876543210) at ${request.headers.host}`;
      response.end(JSON.stringify({ error: { message, type: 'rate_limit_error' } }));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":{"message":"No such file"}}');
  });
  let baseUrl = '';
  const backend = (requestTimeoutMs = 5_000) => ({
    backendName: 'openai-batch',
    provider: 'openai',
    baseUrl,
    requestTimeoutMs,
  });
  const upstream = new HeldObjectUpstream({});

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(async () => {
    stalled?.destroy();
    held?.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("answers a backend's refusal without its organization, project or host", async () => {
    await assert.rejects(upstream.open(backend(), '/files/quota/content'), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.match(error.message, /Enqueued token limit reached in organization \[REDACTED\]/);
      assert.doesNotMatch(error.message, /org-AbCdEf|proj_Zy98|127\.0\.0\.1/);
      return true;
    });
  });

  it('is read as it arrives, in many chunks, to the same bytes', async () => {
    const answer = await upstream.open(backend(), '/files/big/content');
    assert.equal(answer.status, 200);
    assert.equal(answer.contentType, 'application/jsonl');
    let chunks = 0;
    const got: Buffer[] = [];
    for await (const chunk of answer.body) {
      chunks++;
      got.push(chunk as Buffer);
    }
    assert.ok(chunks > 1, `${chunks} chunk(s)`);
    assert.equal(Buffer.concat(got).toString('utf8'), LINES.join(''));
  });

  it('lets go of the backend when its reader destroys the body', async () => {
    const answer = await upstream.open(backend(), '/files/endless/content');
    for await (const _chunk of answer.body) break; // a client that hung up
    await until('the backend saw the request go away', () => closedEarly > 0, { everyMs: 10 });
    assert.equal(closedEarly, 1);
  });

  it('lets go of a backend that holds its next bytes when its reader hangs up', async () => {
    // The gateway waits for the backend's next bytes when the client goes: the backend's
    // read ends then, not when more bytes or the (long) timeout come.
    const answer = await upstream.open(backend(30_000), '/files/hold/content');
    await new Promise<void>((resolve) => answer.body.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer.body.destroy();
    await until('the backend saw the request go away', () => heldClosed > 0, { everyMs: 10 });
    assert.equal(heldClosed, 1);
  });

  it('throws an error answer as send does (404 kept), and times out a stalled body', async () => {
    await assert.rejects(upstream.open(backend(), '/files/gone/content'), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 404);
      return true;
    });
    // Its headers come at once, but a loaded machine took past 150 ms to read them.
    const answer = await upstream.open(backend(1_000), '/files/stall/content');
    await assert.rejects(
      (async () => {
        for await (const _chunk of answer.body) {
          // the first line, then nothing for longer than the timeout
        }
      })(),
      (error: unknown) => error instanceof DataPlaneError && /timed out/.test(error.message),
    );
  });

  it('times only the waits for the backend, not a slow reader', async () => {
    // A timeout far past a loaded machine's gaps between the fake's writes (150 ms was not).
    const answer = await upstream.open(backend(1_000), '/files/big/content');
    const parts: Buffer[] = [];
    for await (const chunk of answer.body) {
      // The first chunk read, then a pause longer than the timeout (a client's backpressure).
      if (parts.length === 0) await new Promise((resolve) => setTimeout(resolve, 1_500));
      parts.push(chunk as Buffer);
    }
    assert.equal(Buffer.concat(parts).toString('utf8'), LINES.join(''));
  });
});
