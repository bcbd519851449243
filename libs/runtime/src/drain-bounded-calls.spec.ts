import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
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
      return new Promise((_, reject) => {
        if (signal.aborted) reject(new Error('aborted upstream'));
        signal.addEventListener('abort', () => reject(new Error('aborted upstream')), {
          once: true,
        });
      });
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

/** A stream answer of `events`, its call's signal kept in `seen`. */
function streamingRouter(
  events: (signal: AbortSignal) => AsyncIterable<JsonObject>,
  seen: { signal?: AbortSignal } = {},
): RouterPort {
  return {
    listModels: () => [],
    route: async (_request, signal) => {
      seen.signal = signal;
      return {
        kind: 'stream',
        status: 200,
        events: events(signal),
        usage: Promise.resolve({
          inputTokens: 1,
          outputTokens: 1,
          cachedInputTokens: 0,
          source: 'reported',
        }),
        servedBy,
      };
    },
  };
}

/** A stream that yields `first`, then waits for good: a backend deaf to the abort. */
async function* deafStream(first: JsonObject): AsyncGenerator<JsonObject> {
  yield first;
  await new Promise(() => undefined);
}

async function* twoEvents(): AsyncGenerator<JsonObject> {
  yield { id: 'a' };
  yield { id: 'b' };
}

function eventsOf(answer: GatewayAnswer): AsyncIterable<JsonObject> {
  assert.equal(answer.kind, 'stream');
  return (answer as { events: AsyncIterable<JsonObject> }).events;
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
      streamingRouter((signal) => stallingStream(signal, { id: 'chunk-1' }, ended)),
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

  it('ends at the deadline a stream wait that was under way when the stop began', async () => {
    const { drain, cuts, onCut } = setUp(30);
    const ended = { returned: false };
    const router = drainBoundedRouter(
      streamingRouter((signal) => stallingStream(signal, { id: 'chunk-1' }, ended)),
      drain,
      onCut,
    );
    const answer = await router.route({ ...request, stream: true }, new AbortController().signal);
    const events = eventsOf(answer)[Symbol.asyncIterator]();
    assert.deepEqual(await events.next(), { done: false, value: { id: 'chunk-1' } });
    // The wait starts before the stop: it is ended by the abort that cancels the backend.
    const waiting = events.next();
    drain.begin();
    await assert.rejects(waiting, { code: DataPlaneErrorCode.NoBackendAvailable });
    assert.deepEqual(cuts, ['streaming']);
    assert.equal(ended.returned, true, 'the upstream stream was closed');
    assert.deepEqual(await events.next(), { done: true, value: undefined });
    assert.equal(drain.runningCalls, 0);
  });

  it('once a stop has begun, ends a stream at the deadline even on a backend deaf to the abort', async () => {
    const { drain, cuts, onCut } = setUp(30);
    const seen: { signal?: AbortSignal } = {};
    const router = drainBoundedRouter(
      streamingRouter(() => deafStream({ id: 'chunk-1' }), seen),
      drain,
      onCut,
    );
    const answer = await router.route({ ...request, stream: true }, new AbortController().signal);
    drain.begin();
    const started = performance.now();
    const seenEvents: JsonObject[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of eventsOf(answer)) seenEvents.push(event);
      })(),
      { code: DataPlaneErrorCode.NoBackendAvailable },
    );
    assert.ok(performance.now() - started >= 20, 'at the deadline, not before');
    assert.deepEqual(seenEvents, [{ id: 'chunk-1' }]);
    assert.equal(seen.signal?.aborted, true, 'the call was cancelled upstream');
    assert.deepEqual(cuts, ['streaming']);
  });

  it("passes the caller's hang-up on to the call, with its reason", async () => {
    const { drain, onCut } = setUp(1_000);
    const seen: { signal?: AbortSignal } = {};
    const router = drainBoundedRouter(hangingRouter(seen), drain, onCut);
    const client = new AbortController();
    const answered = router.route(request, client.signal);
    const gone = new Error('client gone');
    client.abort(gone);
    await assert.rejects(answered, /aborted upstream/);
    assert.equal(seen.signal?.reason, gone);
    // A caller already gone: the call starts cancelled.
    const late = router.route(request, client.signal);
    assert.equal(seen.signal?.aborted, true);
    await assert.rejects(late, /aborted upstream/);
  });

  it('holds nothing once a call is over: no call left to cut, no listener on the caller', async () => {
    const { drain, cuts, onCut } = setUp(1_000);
    const callers: AbortController[] = [];
    const caller = () => {
      callers.push(new AbortController());
      return callers.at(-1)!.signal;
    };
    const answers = drainBoundedRouter(
      { listModels: () => [], route: async () => json },
      drain,
      onCut,
    );
    const failing = drainBoundedRouter(
      {
        listModels: () => [],
        route: async () => {
          throw new Error('backend down');
        },
      },
      drain,
      onCut,
    );
    const streams = drainBoundedRouter(streamingRouter(twoEvents), drain, onCut);

    await answers.route(request, caller());
    await assert.rejects(failing.route(request, caller()), /backend down/);
    const read: JsonObject[] = [];
    for await (const event of eventsOf(await streams.route(request, caller()))) read.push(event);
    assert.deepEqual(read, [{ id: 'a' }, { id: 'b' }]);
    for await (const event of eventsOf(await streams.route(request, caller()))) {
      assert.deepEqual(event, { id: 'a' });
      break; // a client that left midway
    }
    // Tracked while it is handed on, as the edge may still read it...
    const unread = eventsOf(await streams.route(request, caller()));
    assert.equal(drain.runningCalls, 1);
    // ...and let go when its caller hangs up before reading it (the edge then drops it).
    callers.at(-1)!.abort(new Error('client gone'));
    await eventsOf(await streams.route(request, caller()))[Symbol.asyncIterator]().return!();

    assert.equal(drain.runningCalls, 0);
    for (const { signal } of callers) assert.equal(getEventListeners(signal, 'abort').length, 0);
    assert.deepEqual(cuts, []);
    // Read after all, it is tracked again for its reading.
    const events = unread[Symbol.asyncIterator]();
    await events.next();
    assert.equal(drain.runningCalls, 1);
    await events.return!();
    assert.equal(drain.runningCalls, 0);

    // A caller that hung up while its stream was being opened: the edge drops it unread.
    const gone = new AbortController();
    const handedOn = drainBoundedRouter(
      {
        listModels: () => [],
        route: async () => {
          gone.abort(new Error('client gone'));
          return streamingRouter(twoEvents).route(request, gone.signal);
        },
      },
      drain,
      onCut,
    );
    await handedOn.route(request, gone.signal);
    assert.equal(drain.runningCalls, 0);
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
