// The provider-adapter times a stream's first event against the deadline the router sends
// (x-aigw-first-event-ms): that deadline bounds the first event only, never the wait
// between two events of a stream that started.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayAnswer, JsonObject, ProviderCall } from '@aigw/contracts/data-plane';
import { HttpProviderClient } from './http-provider-client';
import { registerProviderWire } from './provider-wire-server';
import { createWireServer } from './wire-server';
import { providerCall, request, servedBy, usage } from '../testing/wire-call-fixtures';

/** Waits `ms`, or rejects with the call's abort reason as a cancelled backend call does. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

describe("the provider-adapter's first-event deadline", () => {
  let next: (call: ProviderCall) => GatewayAnswer | Promise<GatewayAnswer>;
  let client: HttpProviderClient;
  let close: () => Promise<void>;

  before(async () => {
    const { fastify, served } = createWireServer({ maxBodyBytes: 1024 * 1024 });
    registerProviderWire(fastify, { invoke: async (call) => next(call) }, (target) => ({
      ...target,
      requestTimeoutMs: 5_000,
      firstByteTimeoutMs: 5_000,
    }));
    const port = await served.listen(0, '127.0.0.1');
    client = new HttpProviderClient({ url: new URL(`http://127.0.0.1:${port}`) });
    close = () => served.close();
  });
  after(async () => {
    await client.close();
    await close();
  });

  it('lets a stream whose first event came in time wait longer than it for the next', async () => {
    let adapterSignal: AbortSignal | undefined;
    next = (call) => {
      adapterSignal = call.signal;
      async function* events(): AsyncGenerator<JsonObject> {
        yield { n: 1 };
        // Three deadlines' worth of quiet after the first event.
        await pause(300, call.signal);
        yield { n: 2 };
      }
      return {
        kind: 'stream',
        status: 200,
        events: events(),
        usage: Promise.resolve(usage),
        servedBy,
      };
    };
    const call = providerCall(request({ stream: true }), new AbortController().signal);
    const answer = await client.invoke({ ...call, firstEventTimeoutMs: 100 });
    assert.equal(answer.kind, 'stream');
    const numbers: unknown[] = [];
    if (answer.kind === 'stream') for await (const chunk of answer.events) numbers.push(chunk.n);
    assert.deepEqual(numbers, [1, 2]);
    assert.equal(adapterSignal?.aborted, false, "the backend's call was not cancelled");
  });
  it('leaves a JSON call to its own timeouts, however long its answer takes', async () => {
    let adapterSignal: AbortSignal | undefined;
    next = async (call) => {
      adapterSignal = call.signal;
      await pause(300, call.signal);
      return { kind: 'json', status: 200, body: { id: 'x' }, usage, servedBy };
    };
    const call = providerCall(request(), new AbortController().signal);
    const answer = await client.invoke({ ...call, firstEventTimeoutMs: 100 });
    assert.equal(answer.kind, 'json');
    assert.equal(adapterSignal?.aborted, false, "the backend's call was not cancelled");
  });
});
