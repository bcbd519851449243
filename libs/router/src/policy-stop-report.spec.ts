// An answer a backend ended for its own content policy (finish_reason content_filter: a
// Bedrock guardrail's intervention, a Gemini safety stop) is finished and billed like any
// other: the router tells its observer which backend stopped it, in a JSON answer and at a
// stream's finish, once per answer, so ai_gateway_backend_content_filtered_total shows an
// operator a guardrail blocking a backend's answers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendConfig } from '@aigw/config';
import type { GatewayAnswer, JsonObject, ProviderCall } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { configFromYaml, metricSum } from '@aigw/testing';
import { FailoverRouter } from './failover-router';
import { RouterTelemetry } from './router-telemetry';
import {
  answers,
  chatRequest,
  ScriptedProviders,
  streamAnswer,
} from './testing/scripted-providers';

const config = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: guarded, provider: bedrock, model: gpt-4}
`);

const finishing = (reason: string): JsonObject => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: {}, finish_reason: reason }],
});

async function* chunks(...items: JsonObject[]): AsyncGenerator<JsonObject> {
  for (const item of items) yield item;
}

function jsonFinishing(reason: string) {
  return async (call: ProviderCall): Promise<GatewayAnswer> => {
    const answer = await answers(call);
    if (answer.kind !== 'json') throw new Error('a JSON answer expected');
    const choice = {
      index: 0,
      message: { role: 'assistant', content: 'x' },
      finish_reason: reason,
    };
    return { ...answer, body: { ...answer.body, choices: [choice] } };
  };
}

function streamFinishing(reason: string) {
  return async (call: ProviderCall) =>
    streamAnswer(
      call,
      chunks(
        { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'x' } }] },
        finishing(reason),
        // A usage chunk after the finish repeats nothing that counts.
        { object: 'chat.completion.chunk', choices: [], usage: {} },
      ),
    );
}

async function readToItsEnd(answer: GatewayAnswer): Promise<void> {
  if (answer.kind === 'stream') for await (const event of answer.events) void event;
}

describe('an answer its backend stopped for its own content policy', () => {
  it('is told to the observer once per answer, JSON or streamed, and no other finish is', async () => {
    const stopped: string[] = [];
    let script = jsonFinishing('content_filter');
    const providers = new ScriptedProviders({ guarded: (call) => script(call) });
    const router = new FailoverRouter({
      config: () => config,
      providers,
      observer: {
        fallback: () => undefined,
        policyStopped: (backend: BackendConfig) => stopped.push(backend.name),
      },
    });
    const route = async (stream: boolean) =>
      readToItsEnd(await router.route(chatRequest({ stream }), new AbortController().signal));

    await route(false);
    script = streamFinishing('content_filter');
    await route(true);
    assert.deepEqual(stopped, ['guarded', 'guarded']);

    const others: [typeof script, boolean][] = [
      [jsonFinishing('stop'), false],
      [streamFinishing('stop'), true],
      [streamFinishing('length'), true],
    ];
    for (const [next, stream] of others) {
      script = next;
      await route(stream);
    }
    assert.deepEqual(stopped, ['guarded', 'guarded']);
  });

  it('is counted by backend in ai_gateway_backend_content_filtered_total', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const telemetry = new RouterTelemetry(
      { publish: () => undefined, flush: async () => {} },
      metrics,
    );
    const router = new FailoverRouter({
      config: () => config,
      providers: new ScriptedProviders({ guarded: streamFinishing('content_filter') }),
      observer: telemetry,
    });
    await readToItsEnd(
      await router.route(chatRequest({ stream: true }), new AbortController().signal),
    );
    const text = await metrics.metrics();
    assert.equal(
      metricSum(text, 'ai_gateway_backend_content_filtered_total', { backend: 'guarded' }),
      1,
    );
  });
});
