import type { ProviderAdapter } from './core/provider-adapter';
import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import type { SettingsDroppedEventListener } from './anthropic/claude-sampling';
import { AzureOpenAiAdapter } from './azure/azure.adapter';
import { BedrockAdapter } from './bedrock/bedrock.adapter';
import { CohereAdapter } from './cohere/cohere.adapter';
import { GeminiAdapter } from './gemini/gemini.adapter';
import { LocalAdapter } from './local/local.adapter';
import { OpenAiCompatibleAdapter } from './openai-compatible/openai-compatible.adapter';
import type { TokenRefreshListener } from './vertex/google-access-token';
import { VertexAdapter } from './vertex/vertex.adapter';

export interface DefaultAdapterOptions {
  /** Told of every access-token refresh (Vertex AI), for the metrics. */
  readonly onTokenRefresh?: TokenRefreshListener;
  /** Told of every sampling setting a Claude request left out, for the metrics. */
  readonly onSettingsDropped?: SettingsDroppedEventListener;
}

/** Every wire format this build speaks; the registry picks one per backend's provider. */
export function defaultProviderAdapters(options: DefaultAdapterOptions = {}): ProviderAdapter[] {
  return [
    new OpenAiCompatibleAdapter(),
    new AzureOpenAiAdapter(),
    new AnthropicAdapter(undefined, options.onSettingsDropped),
    new GeminiAdapter(),
    new BedrockAdapter(undefined, undefined, options.onSettingsDropped),
    new VertexAdapter({
      onTokenRefresh: options.onTokenRefresh,
      onSettingsDropped: options.onSettingsDropped,
    }),
    new CohereAdapter(),
    new LocalAdapter(),
  ];
}
