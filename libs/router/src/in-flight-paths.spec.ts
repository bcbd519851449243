// A backend's calls in flight (least-busy's figure, ai_gateway_backend_in_flight) come back
// to 0 however a stream ends: read to its end, cut by its client, stalled past its idle
// timeout, given up before its first event (and failed over), or left by an edge whose
// relay threw. A count that leaked would push the backend behind the others for good.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromYaml } from '@aigw/testing';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import type { GatewayAnswer, JsonObject, ProviderCall } from '@aigw/contracts/data-plane';
import { BackendLoad } from './domain/backend-load';
import { FailoverRouter } from './failover-router';

const config = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  loadBalancing: {strategy: least-busy}
  failover: {on: [timeout, error]}
  backends:
  - {name: main, priority: 0, provider: openai, model: gpt-4o, streamIdleTimeout: 50ms, firstByteTimeout: 50ms}
  - {name: spare, priority: 1, provider: openai, model: gpt-4o}
`);

type Behaviour = 'answers' | 'stalls after one event' | 'silent';

/** Backends streaming two events, or stalling as told until their call is cancelled. */
function backends(behaviour: Record<string, Behaviour>) {
  return {
    async invoke(call: ProviderCall): Promise<GatewayAnswer> {
      const backend = call.target.backendName;
      const usage = {
        inputTokens: 1,
        outputTokens: 1,
        cachedInputTokens: 0,
        source: 'reported' as const,
      };
      const cancelled = () =>
        new Promise((resolve) => call.signal.addEventListener('abort', resolve, { once: true }));
      const how = behaviour[backend] ?? 'answers';
      const events = (async function* (): AsyncGenerator<JsonObject> {
        if (how === 'silent') {
          await cancelled();
          throw call.signal.reason;
        }
        yield { choices: [] };
        if (how === 'stalls after one event') {
          await cancelled();
          throw call.signal.reason;
        }
        yield { choices: [] };
      })();
      return {
        kind: 'stream',
        status: 200,
        events,
        usage: Promise.resolve(usage),
        servedBy: { backend, provider: call.target.provider, model: call.target.model },
      };
    },
  };
}

const streamRequest = () =>
  gatewayChatRequest({ model: 'gpt-4o', stream: true }, { requestedModel: 'gpt-4o' });

function routerWith(behaviour: Record<string, Behaviour>) {
  const load = new BackendLoad();
  const router = new FailoverRouter({ config: () => config, providers: backends(behaviour), load });
  const inFlight = () => ({ main: load.of('main').inFlight, spare: load.of('spare').inFlight });
  return { router, inFlight };
}

async function readAll(answer: GatewayAnswer): Promise<void> {
  assert.equal(answer.kind, 'stream');
  if (answer.kind === 'stream') for await (const _ of answer.events) void _;
}

describe('calls in flight come back to 0', () => {
  it('a stream read to its end', async () => {
    const { router, inFlight } = routerWith({});
    const answer = await router.route(streamRequest(), new AbortController().signal);
    assert.deepEqual(inFlight(), { main: 1, spare: 0 });
    await readAll(answer);
    assert.deepEqual(inFlight(), { main: 0, spare: 0 });
  });

  it('a stream its client cut, read or not', async () => {
    const { router, inFlight } = routerWith({ main: 'stalls after one event' });
    const reading = new AbortController();
    const answer = await router.route(streamRequest(), reading.signal);
    assert.ok(answer.kind === 'stream');
    const events = answer.events[Symbol.asyncIterator]();
    await events.next();
    reading.abort(new Error('client disconnected'));
    await events.return?.();
    const unread = new AbortController();
    await router.route(streamRequest(), unread.signal);
    unread.abort(new Error('client disconnected'));
    assert.deepEqual(inFlight(), { main: 0, spare: 0 });
  });

  it('a stream cut at its idle timeout', async () => {
    const { router, inFlight } = routerWith({ main: 'stalls after one event' });
    const answer = await router.route(streamRequest(), new AbortController().signal);
    await assert.rejects(readAll(answer), /streamIdleTimeout/);
    assert.deepEqual(inFlight(), { main: 0, spare: 0 });
  });

  it('a stream given up before its first event, failed over to the spare', async () => {
    const { router, inFlight } = routerWith({ main: 'silent' });
    const answer = await router.route(streamRequest(), new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'spare');
    assert.deepEqual(inFlight(), { main: 0, spare: 1 });
    await readAll(answer);
    assert.deepEqual(inFlight(), { main: 0, spare: 0 });
  });

  it('a stream whose relay threw while reading it', async () => {
    const { router, inFlight } = routerWith({});
    const answer = await router.route(streamRequest(), new AbortController().signal);
    assert.ok(answer.kind === 'stream');
    await assert.rejects(
      (async () => {
        for await (const _ of answer.events)
          throw new Error(`relay failed on ${JSON.stringify(_)}`);
      })(),
      /relay failed/,
    );
    assert.deepEqual(inFlight(), { main: 0, spare: 0 });
  });
});
