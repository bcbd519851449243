// The ingress waits for the router as long as the router may work on a call: a route's
// failover (every attempt at its backend's requestTimeout, with retryDelay between) and a
// stream's pauses (streamIdleTimeout) may outlast ROUTER_TIMEOUT_MS, and the ingress must
// not cut off an answer the router is still bound to give. Here ROUTER_TIMEOUT_MS equals
// the first backend's requestTimeout, as the defaults do (both 5 minutes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-router-wait-'));
const ROUTER_TIMEOUT_MS = 2_000;

const chunk = (content: string, finish: string | null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta: { content }, finish_reason: finish }],
});

/**
 * /hang/v1 never answers; /slow/v1 answers a JSON call after half ROUTER_TIMEOUT_MS (so a
 * failover's answer comes past it), and a stream in two events 1.5 x ROUTER_TIMEOUT_MS apart.
 */
const backends = createServer((request, response) => {
  let body = '';
  request.on('data', (part: Buffer) => (body += part.toString()));
  request.on('end', () => {
    if (request.url?.startsWith('/hang/')) return;
    if (!(JSON.parse(body) as { stream?: boolean }).stream) {
      response.writeHead(200, { 'content-type': 'application/json' });
      setTimeout(
        () =>
          response.end(
            JSON.stringify({
              id: 'chatcmpl-2',
              object: 'chat.completion',
              created: 1,
              model: 'gpt-4o-mini',
              choices: [
                {
                  index: 0,
                  message: { role: 'assistant', content: 'second' },
                  finish_reason: 'stop',
                },
              ],
              usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
            }),
          ),
        ROUTER_TIMEOUT_MS / 2,
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`data: ${JSON.stringify(chunk('thought', null))}\n\n`);
    setTimeout(() => {
      response.end(`data: ${JSON.stringify(chunk(' long', 'stop'))}\n\ndata: [DONE]\n\n`);
    }, ROUTER_TIMEOUT_MS * 1.5);
  });
});

describe('split deployment: the ingress waits as long as the router may', () => {
  const started: AppProcess[] = [];
  let ingress: AppProcess;

  before(async () => {
    await new Promise<void>((resolve) => backends.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(backends.address() as AddressInfo).port}`;
    const config = join(dir, 'split.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: failover}
spec:
  backends:
  - {name: hangs, provider: openai-compatible, baseUrl: "${base}/hang/v1", model: gpt-4o-mini, priority: 0, requestTimeout: ${ROUTER_TIMEOUT_MS}ms}
  - {name: answers, provider: openai-compatible, baseUrl: "${base}/slow/v1", model: gpt-4o-mini, priority: 1, requestTimeout: 60s}
---
kind: AIGatewayRoute
metadata: {name: thinker}
spec:
  backends:
  - {name: thinks, provider: openai-compatible, baseUrl: "${base}/slow/v1", model: thinker, requestTimeout: 60s, streamIdleTimeout: 30s}
`,
    );
    ({ ingress } = await startSplitDataPlane(
      {
        AI_GATEWAY_CONFIG: config,
        AI_GATEWAY_MISSING_SECRETS: 'warn',
        ROUTER_TIMEOUT_MS: String(ROUTER_TIMEOUT_MS),
      },
      dir,
      started,
    ));
  });

  after(async () => {
    backends.closeAllConnections();
    await Promise.all(started.map((app) => app.stop()));
    backends.close();
  });

  const chat = (model: string, stream: boolean) =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('answers from the backend the router fails over to after a timeout', async () => {
    const response = await chat('gpt-4o-mini', false);
    const body = (await response.json()) as { choices?: { message: { content: string } }[] };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.choices?.[0].message.content, 'second');
  });

  it('relays a stream whose backend pauses within its streamIdleTimeout', async () => {
    const response = await chat('thinker', true);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.doesNotMatch(text, /"error"/);
    assert.match(text, / long/);
    assert.match(text, /data: \[DONE\]/);
  });
});
