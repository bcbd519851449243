import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
  type ProviderCall,
  type ProviderPort,
} from '@aigw/contracts/data-plane';

// Spec helpers for routing a chat through FailoverRouter with scripted backends: each
// backend answers or fails as its script says, and every call is recorded in order. Also the
// requests the router specs send (a chat, a Realtime session).

/** What one backend does when called. */
export type Script = (call: ProviderCall) => Promise<GatewayAnswer>;

/** Answers 200, served by the backend called. */
export const answers: Script = async (call) => ({
  kind: 'json',
  status: 200,
  body: { model: call.target.model, choices: [] },
  usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
  servedBy: {
    backend: call.target.backendName,
    provider: call.target.provider,
    model: call.target.model,
  },
});

/** A 200 stream of `events`, served by the backend called, reporting 1 token each way. */
export function streamAnswer(call: ProviderCall, events: AsyncIterable<JsonObject>): GatewayAnswer {
  return {
    kind: 'stream',
    status: 200,
    usage: Promise.resolve({
      inputTokens: 1,
      outputTokens: 1,
      cachedInputTokens: 0,
      source: 'reported',
    }),
    servedBy: {
      backend: call.target.backendName,
      provider: call.target.provider,
      model: call.target.model,
    },
    events,
  };
}

/** Fails as an upstream error, a failover trigger. */
export const unavailable: Script = async () => {
  throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'scripted failure');
};

/** Backends by name, each running its script (unscripted ones answer); records every call. */
export class ScriptedProviders implements ProviderPort {
  readonly calls: ProviderCall[] = [];
  constructor(private readonly script: Record<string, Script>) {}
  invoke(call: ProviderCall): Promise<GatewayAnswer> {
    this.calls.push(call);
    return (this.script[call.target.backendName] ?? answers)(call);
  }
}

/** A chat of `model` saying "hi", with these provider_extras (none: null). */
export function chatWithExtras(
  model: string,
  extras: Record<string, unknown> | null,
): GatewayRequest {
  return {
    requestId: 'r1',
    operation: 'chat',
    requestedModel: model,
    stream: false,
    clientWantsStreamUsage: false,
    body: {
      model,
      messages: [{ role: 'user', content: 'hi' }],
      ...(extras ? { provider_extras: extras } : {}),
    },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

/** A non-streamed chat of gpt-4 saying "hi" (request r1 of user u), with these fields replaced. */
export function chatRequest(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    requestId: 'r1',
    operation: 'chat',
    requestedModel: 'gpt-4',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
    ...overrides,
  };
}

/** A Realtime session of the `voice` model (request r1 of user u), with these fields replaced. */
export function realtimeSession(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    requestId: 'r1',
    operation: 'realtime',
    requestedModel: 'voice',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'voice' },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
    ...overrides,
  };
}
