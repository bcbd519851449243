// An OpenAI-format backend answering 200 with no choice at all (an overloaded proxy's empty
// answer: `{"choices": []}`, or a stream of `[DONE]` alone) has not answered: the request
// fails over to the next backend, on every edge, and the failover is counted. Before, chat
// clients got the empty answer as a finished one (their SDK's choices[0] undefined), the
// stream edges an empty finished stream, and /v1/messages a 502 with no failover. The same
// in the three-process deployment, where the adapter's error crosses to the router first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum } from '@aigw/testing';
import {
  startGatewayWithConfig,
  startSplitDataPlane,
  type AppProcess,
} from '@aigw/testing/processes';
import { streamingEdges } from './streaming-edges';

const EMPTY_JSON = JSON.stringify({
  id: 'chatcmpl-empty',
  object: 'chat.completion',
  created: 1,
  model: 'upstream-model',
  choices: [],
});
const EMPTY_STREAM = 'data: [DONE]\n\n';

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-b',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'upstream-model',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;

/** Backend b: answers every call, streamed or not, with "From b." */
function answerFromB(body: { stream?: boolean }, response: ServerResponse): void {
  if (body.stream) {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(
      chunk({ role: 'assistant', content: 'From b.' }) + chunk({}, 'stop') + 'data: [DONE]\n\n',
    );
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      id: 'chatcmpl-b',
      object: 'chat.completion',
      created: 1,
      model: 'upstream-model',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'From b.' }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    }),
  );
}

/** Backend a: answers every call 200 with no choice, a stream as [DONE] alone. */
function answerEmpty(body: { stream?: boolean }, response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': body.stream ? 'text/event-stream' : 'application/json',
  });
  response.end(body.stream ? EMPTY_STREAM : EMPTY_JSON);
}

function backend(answer: (body: { stream?: boolean }, response: ServerResponse) => void) {
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => answer(JSON.parse(Buffer.concat(parts).toString()), response));
  });
}

/** Where the test talks to the gateway: its edge, and the admin port of its router. */
interface Deployment {
  readonly edge: string;
  readonly routerAdmin: string;
}

/** The all-in-one gateway, or ingress, router and provider-adapter as three processes. */
async function deploy(
  shape: 'all-in-one' | 'split',
  config: string,
  services: AppProcess[],
): Promise<Deployment> {
  const env = { AI_GATEWAY_SECRET_K_APIKEY: 'sk-k' };
  if (shape === 'all-in-one') {
    const gateway = await startGatewayWithConfig(config, env);
    services.push(gateway);
    return { edge: gateway.baseUrl, routerAdmin: `http://127.0.0.1:${gateway.adminPort}` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'aigw-empty-answer-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, config);
  const { ingress, router } = await startSplitDataPlane(
    { ...env, AI_GATEWAY_CONFIG: path },
    dir,
    services,
  );
  return { edge: ingress.baseUrl, routerAdmin: `http://127.0.0.1:${router.adminPort}` };
}

for (const shape of ['all-in-one', 'split'] as const) {
  describe(`a backend answering 200 with no choice (${shape})`, () => {
    const a = backend(answerEmpty);
    const b = backend(answerFromB);
    const services: AppProcess[] = [];
    let gateway: Deployment;
    const urlOf = (server: typeof a) =>
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

    before(async () => {
      for (const server of [a, b]) {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      }
      gateway = await deploy(
        shape,
        `kind: AIGatewayRoute
metadata: {name: empty-answer}
spec:
  backends:
  - {name: empty, priority: 0, provider: vllm, baseUrl: "${urlOf(a)}", model: upstream-model, modelNameOverride: m, auth: {apiKeyRef: {name: k}}}
  - {name: answering, priority: 1, provider: vllm, baseUrl: "${urlOf(b)}", model: upstream-model, modelNameOverride: m, auth: {apiKeyRef: {name: k}}}
  failover: {on: [error]}
`,
        services,
      );
    });
    after(async () => {
      await Promise.all(services.map((service) => service.stop()));
      for (const server of [a, b]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    const post = async (path: string, body: object) => {
      const response = await fetch(`${gateway.edge}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'k',
          authorization: 'Bearer k',
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    };
    const failovers = async () =>
      metricSum(
        await (await fetch(`${gateway.routerAdmin}/metrics`)).text(),
        'ai_gateway_fallback_total',
        { reason: 'error' },
      );

    const plain = [
      {
        name: 'chat completions',
        path: '/v1/chat/completions',
        body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
      },
      {
        name: 'messages',
        path: '/v1/messages',
        body: { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
      },
    ];
    for (const edge of [
      ...plain,
      ...streamingEdges('m').map((e) => ({ ...e, name: `${e.name} stream` })),
    ]) {
      it(`${edge.name}: is answered by the next backend, the failover counted`, async () => {
        // Three empty answers cool the empty backend (tried last): each case starts afresh.
        const reset = await fetch(
          `${gateway.routerAdmin}/admin/backends/empty-answer/empty/reset`,
          {
            method: 'POST',
          },
        );
        assert.equal(reset.status, 200, await reset.text());
        const before = await failovers();
        const answer = await post(edge.path, edge.body);
        const shown = `${answer.status} ${answer.text.slice(0, 1500)}`;
        assert.equal(answer.status, 200, shown);
        assert.match(answer.text, /From b\./, shown);
        assert.equal((await failovers()) - before, 1);
      });
    }
  });
}
