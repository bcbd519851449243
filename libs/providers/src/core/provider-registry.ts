import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type ProviderCall,
  type ProviderPort,
} from '@aigw/contracts/data-plane';
import type { ProviderAdapter } from './provider-adapter';

/** Dispatches each call to the adapter for its provider kind: the first that can handle it. */
export class ProviderRegistry implements ProviderPort {
  private readonly byProvider = new Map<string, ProviderAdapter>();

  constructor(private readonly adapters: readonly ProviderAdapter[]) {}

  adapterFor(provider: string): ProviderAdapter {
    let adapter = this.byProvider.get(provider);
    if (!adapter) {
      adapter = this.adapters.find((candidate) => candidate.canHandle(provider));
      if (!adapter) {
        throw new DataPlaneError(
          DataPlaneErrorCode.Internal,
          `no adapter is available for provider "${provider}"`,
        );
      }
      this.byProvider.set(provider, adapter);
    }
    return adapter;
  }

  invoke(call: ProviderCall): Promise<GatewayAnswer> {
    return this.adapterFor(call.target.provider).invoke(call);
  }
}
