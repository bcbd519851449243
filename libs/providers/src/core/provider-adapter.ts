import type { GatewayAnswer, ProviderCall } from '@aigw/contracts/data-plane';

/** One wire format (OpenAI-compatible, Anthropic, Gemini, ...). */
export interface ProviderAdapter {
  readonly name: string;
  canHandle(provider: string): boolean;
  /**
   * The call's answer. Its `servedBy.droppedSettings` names each setting the client asked
   * for that the provider request left out (see settings-left-out).
   */
  invoke(call: ProviderCall): Promise<GatewayAnswer>;
}

/** Multi-provider injection token: every adapter registers under it. */
export const PROVIDER_ADAPTERS = Symbol('PROVIDER_ADAPTERS');
