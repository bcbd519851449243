import type { Dispatcher } from 'undici';
import {
  AUDIO_OPERATIONS,
  IMAGE_OPERATIONS,
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import type { ProviderAdapter } from '../core/provider-adapter';
import { invokeOpenAiAudio } from '../core/openai-audio';
import { invokeOpenAiImages } from '../core/openai-images';
import { invokeOpenAiSpeech } from '../core/openai-speech';
import { wantsSpeechEvents } from '../core/openai-speech-events';
import { invokeOpenAiWire } from '../core/openai-wire';
import { sharedUpstreamAgent } from '../core/upstream-http';
import { withAnsweredModel } from './azure-answered-model';
import { azureDeploymentUrl, azureTakesNewerChatFields } from './azure-urls';

/**
 * Azure OpenAI: OpenAI's wire format at deployment URLs. The backend's `model` is the
 * deployment name; the key goes in `api-key` unless the config names another header
 * (e.g. `Authorization` with an Entra ID bearer token).
 */
export class AzureOpenAiAdapter implements ProviderAdapter {
  readonly name = 'azure';

  constructor(private readonly dispatcher: Dispatcher = sharedUpstreamAgent()) {}

  canHandle(provider: string): boolean {
    return provider === 'azure';
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    let url: string;
    try {
      url = azureDeploymentUrl(target.baseUrl, target.model, request.operation);
    } catch (error) {
      throw new DataPlaneError(
        DataPlaneErrorCode.Internal,
        `backend "${target.backendName}": ${(error as Error).message}`,
      );
    }
    if (request.operation === 'speech') {
      // Its speech API answers audio only; the router keeps such requests from it.
      if (wantsSpeechEvents(request.body)) {
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          'Azure OpenAI has no speech events: ask for stream_format "audio"',
          { param: 'stream_format' },
        );
      }
      return invokeOpenAiSpeech(call, url, this.dispatcher);
    }
    if (IMAGE_OPERATIONS.has(request.operation)) {
      return invokeOpenAiImages(call, url, this.dispatcher);
    }
    if (AUDIO_OPERATIONS.has(request.operation)) {
      return invokeOpenAiAudio(call, url, this.dispatcher);
    }
    // Azure opens a stream with a choice-less chunk of prompt-filter results: not for clients.
    // An older api-version knows max_tokens alone and no stream_options (its streams report no
    // usage: they are estimated). The v1 API's URL carries none: it takes both.
    const version = new URL(url).searchParams.get('api-version');
    const newer = version === null || azureTakesNewerChatFields(version);
    const endpoint = {
      url,
      skipChoicelessChunks: true,
      maxTokensAsCompletionTokens: newer,
      completionTokensAsMaxTokens: !newer,
      refusesStreamOptions: !newer,
    };
    // Priced as the model Azure ran unless the route prices the deployment (servedModelPrice).
    return withAnsweredModel(await invokeOpenAiWire(call, endpoint, this.dispatcher), target.model);
  }
}
