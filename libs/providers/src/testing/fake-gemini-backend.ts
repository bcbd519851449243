import { after, before, beforeEach } from 'node:test';
import type { GatewayAnswer, GatewayRequest, UpstreamTarget } from '@aigw/contracts/data-plane';
import { FakeGeminiUpstream, upstreamTarget } from '@aigw/testing/fake-provider';
import { GeminiAdapter } from '../gemini/gemini.adapter';

export interface FakeGeminiBackend {
  readonly upstream: FakeGeminiUpstream;
  /** One call of `request` through a GeminiAdapter to the fake Gemini API. */
  readonly invoke: (request: GatewayRequest) => Promise<GatewayAnswer>;
}

/**
 * A GeminiAdapter against a fake Gemini API serving `model`, for the `describe` it is
 * called in: started before its cases, stopped after them, reset before each.
 */
export function fakeGeminiBackend(model = 'gemini-2.5-flash'): FakeGeminiBackend {
  const upstream = new FakeGeminiUpstream();
  const adapter = new GeminiAdapter();
  let target: UpstreamTarget;
  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'google-gemini', model, baseUrl: upstream.baseUrl },
      { headerName: 'x-goog-api-key', value: 'AIzaSecretKey123456' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());
  return {
    upstream,
    invoke: (request) => adapter.invoke({ request, target, signal: new AbortController().signal }),
  };
}
