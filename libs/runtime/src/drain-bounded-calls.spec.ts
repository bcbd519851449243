import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  GatewayAnswer,
  GatewayRequest,
  JsonObject,
  RouterPort,
} from '@aigw/contracts/data-plane';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { drainBoundedRouter, type DrainCutPhase } from './drain-bounded-calls';
import { DEFAULT_DRAIN_TIMEOUT_MS, DrainDeadline, drainTimeoutMs } from './drain-deadline';

const request = { requestId: 'r1', requestedModel: 'm', stream: false } as GatewayRequest;
const servedBy = { backend: 'b', provider: 'vllm', model: 'm' };
const json: GatewayAnswer = {
  kind: 'json',
  status: 200,
  body: { id: 'x' },
  usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
  servedBy,
};

/** A router whose call waits until its signal aborts, then fails as a cancelled call does. */
function hangingRouter(seen: { signal?: AbortSignal }): RouterPort {
  return {
    listModels: () => ['m'],
    route: (_request, signal) => {
      seen.signal = signal;
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted upstream')), {
          once: true,
        }),
      );
    },
  };
}

/** A stream that yields `first`, then waits until its signal aborts (a stalled backend). */
function stallingStream(signal: AbortSignal, first: JsonObject, ended: { returned: boolean }) {
  async function* events(): AsyncGenerator<JsonObject> {
    try {
      yield first;
      // Ends quietly on the abort, as an adapter that stops reading may: the cut must
      // still reach the client as an error.
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    } finally {
      ended.returned = true;
    }
  }
  return events();
}

function setUp(timeoutMs: number) {
  const drain = new DrainDeadline(timeoutMs);
  const cuts: DrainCutPhase[] = [];
  return { drain, cuts, onCut: (phase: DrainCutPhase) => cuts.push(phase) };
}

describe('model calls bounded by the drain deadline', () => {
  it('leaves calls alone while no stop has begun', async () => {
    const { drain, cuts, onCut } = setUp(1);
    const router = drainBoundedRouter(
      { listModels: () => ['m'], route: async () => json },
      drain,
      onCut,
    );
    assert.equal(await router.route(request, new AbortController().signal), json);
    assert.deepEqual(router.listModels(), ['m']);
    assert.deepEqual(cuts, []);
  });

  it('ends a call still waiting at the deadline with a 503 and cancels it upstream', async () => {
    const { drain, cuts, onCut } = setUp(30);
    const seen: { signal?: AbortSignal } = {};
    const router = drainBoundedRouter(hangingRouter(seen), drain, onCut);
    const answered = router.route(request, new AbortController().signal);
    drain.begin();
    const started = performance.now();
    await assert.rejects(answered, (error: { code?: string; httpStatus?: number }) => {
      assert.equal(error.code, DataPlaneErrorCode.NoBackendAvailable);
      assert.equal(error.httpStatus, 503);
      return true;
    });
    assert.ok(performance.now() - started >= 20, 'at the deadline, not before');
    assert.equal(seen.signal?.aborted, true, 'the call in flight was cancelled');
    assert.deepEqual(cuts, ['waiting']);
    drain.end();
  });

  it('starts no call once the deadline has passed', async () => {
    const { drain, cuts, onCut } = setUp(1);
    let called = 0;
    const router = drainBoundedRouter(
      {
        listModels: () => [],
        route: async () => {
          called++;
          return json;
        },
      },
      drain,
      onCut,
    );
    drain.begin();
    await new Promise((resolve) => drain.signal.addEventListener('abort', resolve));
    await assert.rejects(router.route(request, new AbortController().signal), {
      code: DataPlaneErrorCode.NoBackendAvailable,
    });
    assert.equal(called, 0);
    assert.deepEqual(cuts, ['waiting']);
  });

  it('does not count a caller that hung up first as the drain cutting it', async () => {
    const { drain, cuts, onCut } = setUp(20);
    const router = drainBoundedRouter(hangingRouter({}), drain, onCut);
    const client = new AbortController();
    const answered = router.route(request, client.signal);
    drain.begin();
    client.abort(new Error('client gone'));
    await assert.rejects(answered, /aborted upstream/);
    await new Promise((resolve) => drain.signal.addEventListener('abort', resolve));
    assert.deepEqual(cuts, []);
  });

  it('ends a started stream with the deadline error after the events that went by', async () => {
    const { drain, cuts, onCut } = setUp(30);
    const ended = { returned: false };
    const router = drainBoundedRouter(
      {
        listModels: () => [],
        route: async (_request, signal) => ({
          kind: 'stream',
          status: 200,
          events: stallingStream(signal, { id: 'chunk-1' }, ended),
          usage: Promise.resolve({
            inputTokens: 1,
            outputTokens: 1,
            cachedInputTokens: 0,
            source: 'reported',
          }),
          servedBy,
        }),
      },
      drain,
      onCut,
    );
    const answer = await router.route({ ...request, stream: true }, new AbortController().signal);
    assert.equal(answer.kind, 'stream');
    const seen: JsonObject[] = [];
    drain.begin();
    await assert.rejects(
      (async () => {
        for await (const event of (answer as { events: AsyncIterable<JsonObject> }).events) {
          seen.push(event);
        }
      })(),
      { code: DataPlaneErrorCode.NoBackendAvailable },
    );
    assert.deepEqual(seen, [{ id: 'chunk-1' }]);
    assert.deepEqual(cuts, ['streaming']);
    assert.equal(ended.returned, true, 'the upstream stream was closed');
  });

  it('reads AI_GATEWAY_DRAIN_TIMEOUT_MS, 310 s by default', () => {
    assert.equal(DEFAULT_DRAIN_TIMEOUT_MS, 310_000);
    assert.equal(drainTimeoutMs({}), 310_000);
    assert.equal(drainTimeoutMs({ AI_GATEWAY_DRAIN_TIMEOUT_MS: '25000' }), 25_000);
    for (const bad of ['0', '-1', 'soon']) {
      assert.throws(
        () => drainTimeoutMs({ AI_GATEWAY_DRAIN_TIMEOUT_MS: bad }),
        /AI_GATEWAY_DRAIN_TIMEOUT_MS/,
      );
    }
  });
});
