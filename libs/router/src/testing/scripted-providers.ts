import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type ProviderCall,
  type ProviderPort,
} from '@aigw/contracts/data-plane';

// Spec helpers for routing a chat through FailoverRouter with scripted backends: each
// backend answers or fails as its script says, and every call is recorded in order.

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
