// A call's usage is priced by the prices in force as it started (UsagePricing's forCall),
// though it is known only at the end (a stream's), after a config reload may have changed them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import type {
  GatewayAnswer,
  ProviderCall,
  RealtimeCall,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { MeteredProviderPort, type UsagePricing } from './metered-provider';

const usage: TokenUsage = {
  inputTokens: 3,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported',
};
const call: ProviderCall = {
  request: gatewayChatRequest(),
  signal: new AbortController().signal,
  target: {
    backendName: 'east',
    provider: 'openai',
    model: 'gpt-4',
    requestTimeoutMs: 1_000,
    firstByteTimeoutMs: 1_000,
  },
};

describe('MeteredProviderPort: prices of a call', () => {
  it('prices usage known after a reload at the prices in force when the call started', async () => {
    let dollarsNow = 1;
    const pricing: UsagePricing = Object.assign(
      () => ({ weightedTokens: 5, dollars: dollarsNow }),
      {
        forCall: () => {
          const atStart = dollarsNow;
          return () => ({ weightedTokens: 5, dollars: atStart });
        },
      },
    );
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    let settle: (usage: TokenUsage) => void = () => undefined;
    // A stream: its usage is known at its end.
    const answer: GatewayAnswer = {
      kind: 'stream',
      status: 200,
      events: (async function* () {})(),
      usage: new Promise<TokenUsage>((resolve) => (settle = resolve)),
      servedBy: { backend: 'east', provider: 'openai', model: 'gpt-4' },
    };
    const port = new MeteredProviderPort(
      { invoke: async () => answer },
      publisher,
      new MetricsRegistry({ collectDefaultMetrics: false }),
      pricing,
    );
    await port.invoke(call);
    dollarsNow = 9; // a reload repriced the model while the stream ran
    settle(usage);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(events.length, 1);
    assert.equal((events[0] as { costDollars?: number }).costDollars, 1);
  });

  it("prices a realtime session's responses at the prices in force when it connected", async () => {
    let dollarsNow = 1;
    const pricing: UsagePricing = Object.assign(
      () => ({ weightedTokens: 5, dollars: dollarsNow }),
      {
        forCall: () => {
          const atStart = dollarsNow;
          return () => ({ weightedTokens: 5, dollars: atStart });
        },
      },
    );
    const events: GatewayEvent[] = [];
    let upstream: RealtimeCall | undefined;
    const port = new MeteredProviderPort(
      { invoke: () => Promise.reject(new Error('no calls')) },
      { publish: (event) => events.push(event), flush: async () => {} },
      new MetricsRegistry({ collectDefaultMetrics: false }),
      pricing,
      {
        connectRealtime: (realtime) => {
          upstream = realtime;
          return Promise.resolve({
            servedBy: { backend: 'east', provider: 'openai', model: 'gpt-realtime' },
            send: () => undefined,
            close: () => undefined,
          });
        },
      },
    );
    await port.connectRealtime({
      ...call,
      request: { ...call.request, operation: 'realtime' },
      listener: { frame: () => undefined, closed: () => undefined },
    });
    dollarsNow = 9; // a reload repriced the model while the session ran
    upstream!.listener.frame(
      JSON.stringify({
        type: 'response.done',
        response: { usage: { input_tokens: 3, output_tokens: 2 } },
      }),
    );
    const costs = events.map((event) => (event as { costDollars?: number }).costDollars);
    assert.deepEqual(costs, [1]);
  });
});
