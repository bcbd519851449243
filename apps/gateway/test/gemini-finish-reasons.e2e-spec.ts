import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// A Gemini backend's policy stop (RECITATION here) reaches a Gemini client as Gemini named
// it, in JSON and streams; an OpenAI client sees it as content_filter.

const USAGE = { promptTokenCount: 4, candidatesTokenCount: 3, totalTokenCount: 7 };
const TEXT = { role: 'model', parts: [{ text: 'As the song goes' }] };

/** A Gemini API that stops every answer for recitation. */
function recitingGemini(): Server {
  return createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.url?.includes(':streamGenerateContent')) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`data: ${JSON.stringify({ candidates: [{ content: TEXT }] })}\r\n\r\n`);
        const last = { candidates: [{ finishReason: 'RECITATION' }], usageMetadata: USAGE };
        response.end(`data: ${JSON.stringify(last)}\r\n\r\n`);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          candidates: [{ content: TEXT, finishReason: 'RECITATION' }],
          usageMetadata: USAGE,
        }),
      );
    });
  });
}

describe("a Gemini backend's policy stop through the gateway", () => {
  const upstream = recitingGemini();
  let gateway: AppProcess;

  before(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-finish-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: reciting}
spec:
  backends:
  - name: gemini
    provider: google-gemini
    baseUrl: "http://127.0.0.1:${port}"
    model: gemini-2.5-flash
    modelNameOverride: reciter
    auth: {apiKeyRef: {name: gemini-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaTestKey',
    });
  });
  after(async () => {
    await gateway?.stop();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const post = (path: string, body: unknown) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'client-key' },
      body: JSON.stringify(body),
    });
  const contents = [{ role: 'user', parts: [{ text: 'Sing it' }] }];

  it('is RECITATION to a Gemini client, in JSON and in the stream', async () => {
    const json = await post('/v1beta/models/reciter:generateContent', { contents });
    assert.equal(json.status, 200);
    const answer = (await json.json()) as { candidates: { finishReason: string }[] };
    assert.equal(answer.candidates[0].finishReason, 'RECITATION');

    const streamed = await post('/v1beta/models/reciter:streamGenerateContent?alt=sse', {
      contents,
    });
    assert.equal(streamed.status, 200);
    const events = (await streamed.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { candidates?: { finishReason?: string }[] });
    const finishes = events.flatMap((event) =>
      (event.candidates ?? []).flatMap((c) => (c.finishReason ? [c.finishReason] : [])),
    );
    assert.deepEqual(finishes, ['RECITATION']);
  });

  it('is content_filter to an OpenAI client', async () => {
    const response = await post('/v1/chat/completions', {
      model: 'reciter',
      messages: [{ role: 'user', content: 'Sing it' }],
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: { finish_reason: string }[] };
    assert.equal(body.choices[0].finish_reason, 'content_filter');
  });
});
