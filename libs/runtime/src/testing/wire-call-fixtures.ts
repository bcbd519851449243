import type {
  GatewayRequest,
  ProviderCall,
  ServedBy,
  TokenUsage,
} from '@aigw/contracts/data-plane';

/** The usage every fake backend of the wire specs reports. */
export const usage: TokenUsage = {
  inputTokens: 3,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported',
};

/** The backend that serves the wire specs' calls. */
export const servedBy: ServedBy = { backend: 'b1', provider: 'vllm', model: 'upstream-model' };

/** A non-streamed chat for gpt-4 from alice, with `overrides` applied. */
export function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    requestId: 'r1',
    operation: 'chat',
    requestedModel: 'gpt-4',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
    ...overrides,
  };
}

/** `req` sent to {@link servedBy}'s backend, with its key and 5 s timeouts. */
export function providerCall(req: GatewayRequest, signal: AbortSignal): ProviderCall {
  return {
    request: req,
    target: {
      backendName: 'b1',
      provider: 'vllm',
      model: 'upstream-model',
      credential: {
        headerName: 'authorization',
        headerPrefix: 'Bearer ',
        apiKey: { reveal: () => 'sk-secret' },
      },
      requestTimeoutMs: 5_000,
      firstByteTimeoutMs: 5_000,
    },
    signal,
  };
}
