import type { ProviderAdapter } from './core/provider-adapter';
import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import { AzureOpenAiAdapter } from './azure/azure.adapter';
import { BedrockAdapter } from './bedrock/bedrock.adapter';
import { CohereAdapter } from './cohere/cohere.adapter';
import { GeminiAdapter } from './gemini/gemini.adapter';
import { LocalAdapter } from './local/local.adapter';
import { OpenAiCompatibleAdapter } from './openai-compatible/openai-compatible.adapter';

/** Every wire format this build speaks; the registry picks one per backend's provider. */
export function defaultProviderAdapters(): ProviderAdapter[] {
  return [
    new OpenAiCompatibleAdapter(),
    new AzureOpenAiAdapter(),
    new AnthropicAdapter(),
    new GeminiAdapter(),
    new BedrockAdapter(),
    new CohereAdapter(),
    new LocalAdapter(),
  ];
}
