// Grounding with Google Search through the all-in-one gateway, from a Gemini client: Google
// bills it beside the tokens (Gemini 2.x $35 per 1,000 grounded prompts, Gemini 3 $14 per
// 1,000 search queries), and the gateway billed nothing for it. The answer's
// groundingMetadata.webSearchQueries are now the call's web searches: in the cost header,
// the server-tool metric and ai_gateway_cost_dollars, JSON and streamed; and a request
// enabling googleSearch is held for one grounded prompt against a dollar cap.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { metricSum } from '@aigw/testing';

const COST_HEADER = 'x-ai-gateway-cost-usd';
const QUERIES = ['weather paris', 'paris forecast today', 'paris rain'];
/** No tokens: the cost is the searches' alone. */
const USAGE = { promptTokenCount: 0, candidatesTokenCount: 0, totalTokenCount: 0 };

/** A Gemini API that searched three times for every call. */
class GroundingGemini {
  readonly paths: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    void readBody(request).then(() => {
      this.paths.push(request.url ?? '');
      const candidate = {
        content: { role: 'model', parts: [{ text: 'Rain in Paris.' }] },
        finishReason: 'STOP',
        groundingMetadata: { webSearchQueries: QUERIES },
      };
      if (request.url?.includes(':streamGenerateContent')) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
        event({ candidates: [{ content: { role: 'model', parts: [{ text: 'Rain' }] } }] });
        event({ candidates: [candidate], usageMetadata: USAGE });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ candidates: [candidate], usageMetadata: USAGE }));
    });
  });

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(request: IncomingMessage): Promise<void> {
  for await (const chunk of request) void chunk;
}

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

describe('all-in-one gateway: grounding with Google Search is billed', () => {
  const upstream = new GroundingGemini();
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    const gemini = `provider: google-gemini, baseUrl: "${upstream.baseUrl}", auth: {apiKeyRef: {name: gemini-key}}`;
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: grounded}
spec:
  backends:
  - {name: flash25, ${gemini}, model: gemini-2.5-flash}
  - {name: flash3, ${gemini}, model: gemini-3-flash-preview}
---
kind: AIGatewayRoute
metadata: {name: capped}
spec:
  backends:
  - {name: capped, ${gemini}, model: gemini-2.0-flash}
  userIdentification: {header: x-user-id}
  costControl: {maxDailyCostPerUser: 0.03}
`,
      { AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaGroundingTest' },
    );
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  const ask = (model: string, method: string, headers: Record<string, string> = {}) =>
    fetch(`${gateway.baseUrl}/v1beta/models/${model}:${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'client-key', ...headers },
      body: JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: 'Will it rain in Paris?' }] }],
        tools: [{ googleSearch: {} }],
        generationConfig: { maxOutputTokens: 10 },
      }),
    });

  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();

  it('bills a Gemini 2.x call one grounded prompt however many queries it ran', async () => {
    const response = await ask('gemini-2.5-flash', 'generateContent');
    assert.equal(response.status, 200, await response.clone().text());
    await response.json();
    near(Number(response.headers.get(COST_HEADER)), 0.035, 'cost header');
  });

  it('bills a Gemini 3 call each query, JSON and streamed, and counts them in the metric', async () => {
    const response = await ask('gemini-3-flash-preview', 'generateContent');
    assert.equal(response.status, 200, await response.clone().text());
    await response.json();
    near(Number(response.headers.get(COST_HEADER)), 0.042, 'cost header');
    const stream = await ask('gemini-3-flash-preview', 'streamGenerateContent?alt=sse');
    assert.equal(stream.status, 200);
    assert.match(await stream.text(), /Rain in Paris/);
    // The stream's usage is recorded as it ends; the metric shows both calls' queries.
    let searches = 0;
    for (let tries = 0; tries < 50 && searches < 6; tries++) {
      searches = metricSum(await metrics(), 'ai_gateway_server_tool_requests_total', {
        tool: 'web_search',
        model: 'gemini-3-flash-preview',
      });
      if (searches < 6) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(searches, 6);
    near(
      metricSum(await metrics(), 'ai_gateway_cost_dollars', { model: 'gemini-3-flash-preview' }),
      0.084,
      'ai_gateway_cost_dollars',
    );
  });

  it('holds a grounded request for its grounded prompt against a dollar cap', async () => {
    const before = upstream.paths.length;
    const response = await ask('gemini-2.0-flash', 'generateContent', { 'x-user-id': 'capped' });
    const body = (await response.json()) as { error?: { message?: string } };
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.match(body.error?.message ?? '', /may cost up to/);
    assert.equal(upstream.paths.length, before, 'the refused call never reached Gemini');
  });
});
