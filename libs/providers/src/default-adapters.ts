import type { ProviderCall, RequestSetting } from '@aigw/contracts/data-plane';
import type { ProviderAdapter } from './core/provider-adapter';
import {
  NO_SETTINGS,
  OPENAI_SETTINGS,
  reportingUnsupported,
  type SettingsTaken,
} from './core/settings-left-out';
import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import { ANTHROPIC_SETTINGS } from './anthropic/anthropic-request';
import { AzureOpenAiAdapter } from './azure/azure.adapter';
import { BedrockAdapter } from './bedrock/bedrock.adapter';
import { converseSettings } from './bedrock/bedrock-request';
import { CohereAdapter } from './cohere/cohere.adapter';
import { COHERE_CHAT_SETTINGS } from './cohere/cohere-request';
import { GeminiAdapter } from './gemini/gemini.adapter';
import { geminiSettings } from './gemini/gemini-settings';
import { LocalAdapter } from './local/local.adapter';
import { OpenAiCompatibleAdapter } from './openai-compatible/openai-compatible.adapter';
import { openAiCompatibleSettings } from './openai-compatible/provider-fields';
import type { TokenRefreshListener } from './vertex/google-access-token';
import { VertexAdapter, vertexSettings } from './vertex/vertex.adapter';

export interface DefaultAdapterOptions {
  /** Told of every access-token refresh (Vertex AI), for the metrics. */
  readonly onTokenRefresh?: TokenRefreshListener;
}

/** The same settings for every call. */
const always =
  (settings: ReadonlySet<RequestSetting>): SettingsTaken =>
  () =>
    settings;

/** The settings of a chat model, by its id. */
const byModel =
  (settings: (model: string) => ReadonlySet<RequestSetting>): SettingsTaken =>
  (call: ProviderCall) =>
    settings(call.target.model);

/** Chat's settings for chat; an embeddings request takes none of them. */
const chatOnly =
  (settings: SettingsTaken): SettingsTaken =>
  (call: ProviderCall) =>
    call.request.operation === 'chat' ? settings(call) : NO_SETTINGS;

/**
 * Every wire format this build speaks; the registry picks one per backend's provider.
 * Each reports on its answers the settings asked for that it left out (settings-left-out).
 */
export function defaultProviderAdapters(options: DefaultAdapterOptions = {}): ProviderAdapter[] {
  return [
    reportingUnsupported(new OpenAiCompatibleAdapter(), openAiCompatibleSettings),
    reportingUnsupported(new AzureOpenAiAdapter(), always(OPENAI_SETTINGS)),
    reportingUnsupported(new AnthropicAdapter(), always(ANTHROPIC_SETTINGS)),
    reportingUnsupported(new GeminiAdapter(), geminiSettings),
    reportingUnsupported(new BedrockAdapter(), chatOnly(byModel(converseSettings))),
    reportingUnsupported(
      new VertexAdapter({ onTokenRefresh: options.onTokenRefresh }),
      vertexSettings,
    ),
    reportingUnsupported(new CohereAdapter(), chatOnly(always(COHERE_CHAT_SETTINGS))),
    reportingUnsupported(new LocalAdapter(), always(NO_SETTINGS)),
  ];
}
