// A stream its backend breaks off after the first event (cut, an error event, a choice left
// unfinished) cannot fail over: the client gets its API's error event. The router tells its
// observer which backend did it (ai_gateway_backend_streams_broken_total), or no metric
// shows the backend that keeps cutting answers: its calls all count as begun `ok`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import type { BackendConfig } from '@aigw/config';
import { FailoverRouter, type RouterObserver } from './failover-router';
import { chatRequest, ScriptedProviders, streamAnswer } from './testing/scripted-providers';

const config = configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: cutting, priority: 0, provider: openai, model: gpt-4, streamIdleTimeout: 60ms}
  - {name: spare, priority: 1, provider: openai, model: gpt-4}
  failover: {on: [timeout, error]}
`);

const chunk = (content: string): JsonObject => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

/** One chunk, then what `after` says: a break, or silence until the call is cancelled. */
function oneChunkThen(after: 'break' | 'stall') {
  return async (call: ProviderCall) =>
    streamAnswer(
      call,
      (async function* () {
        yield chunk('Half an');
        if (after === 'break') {
          throw new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut');
        }
        await new Promise((resolve) =>
          call.signal.addEventListener('abort', resolve, { once: true }),
        );
        throw call.signal.reason;
      })(),
    );
}

function observed(): {
  observer: RouterObserver;
  broken: string[];
  stalled: string[];
  cooled: string[];
} {
  const broken: string[] = [];
  const stalled: string[] = [];
  const cooled: string[] = [];
  return {
    broken,
    stalled,
    cooled,
    observer: {
      fallback: () => undefined,
      streamStalled: (backend: BackendConfig) => stalled.push(backend.name),
      streamBroken: (backend: BackendConfig) => broken.push(backend.name),
      cooledDown: (backend: BackendConfig, { reason }) => cooled.push(`${backend.name}:${reason}`),
    },
  };
}

/** Reads a streamed answer to its end: the error it ended with, if any. */
async function readToItsEnd(answer: GatewayAnswer): Promise<unknown> {
  assert.equal(answer.kind, 'stream');
  try {
    for await (const event of answer.events) void event;
  } catch (error) {
    return error;
  }
  return undefined;
}

const streamed = () => chatRequest({ stream: true });

describe('a stream broken off after its first event', () => {
  it('is told to the observer, once, naming its backend', async () => {
    const { observer, broken, stalled } = observed();
    const providers = new ScriptedProviders({ cutting: oneChunkThen('break') });
    const router = new FailoverRouter({ config: () => config, providers, observer });
    const answer = await router.route(streamed(), new AbortController().signal);
    const error = await readToItsEnd(answer);
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.deepEqual(broken, ['cutting']);
    assert.deepEqual(stalled, []);
  });

  it('is not told for a stall (counted as one) nor for a client that left', async () => {
    const { observer, broken, stalled } = observed();
    const providers = new ScriptedProviders({ cutting: oneChunkThen('stall') });
    const router = new FailoverRouter({ config: () => config, providers, observer });
    const stalling = await router.route(streamed(), new AbortController().signal);
    await readToItsEnd(stalling);
    assert.deepEqual(stalled, ['cutting']);

    const client = new AbortController();
    const leaving = await router.route(streamed(), client.signal);
    const reading = readToItsEnd(leaving);
    client.abort(new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected'));
    await reading;
    assert.deepEqual(broken, []);
  });

  // Each such stream began with a success, so failures in a row never count them: a
  // backend cutting every answer would be called first for ever, each client getting an error.
  it('cools its backend down once as many in a row as the failure threshold broke or stalled', async () => {
    const { observer, cooled } = observed();
    let mode: 'break' | 'stall' | 'finish' = 'break';
    const whole = async (call: ProviderCall) =>
      streamAnswer(
        call,
        (async function* () {
          yield chunk('Whole.');
        })(),
      );
    const providers = new ScriptedProviders({
      cutting: async (call) => (mode === 'finish' ? whole(call) : oneChunkThen(mode)(call)),
      spare: whole,
    });
    const router = new FailoverRouter({ config: () => config, providers, observer });
    const servedBy = async (): Promise<string> => {
      const answer = await router.route(streamed(), new AbortController().signal);
      await readToItsEnd(answer);
      return answer.servedBy.backend;
    };
    // Two broken, one finished: not in a row.
    assert.equal(await servedBy(), 'cutting');
    assert.equal(await servedBy(), 'cutting');
    mode = 'finish';
    assert.equal(await servedBy(), 'cutting');
    assert.deepEqual(cooled, []);
    // Broken, stalled, broken: three in a row, so the next stream goes to the spare.
    mode = 'break';
    assert.equal(await servedBy(), 'cutting');
    mode = 'stall';
    assert.equal(await servedBy(), 'cutting');
    mode = 'break';
    assert.equal(await servedBy(), 'cutting');
    assert.deepEqual(cooled, ['cutting:failures']);
    assert.equal(await servedBy(), 'spare');
  });
});
