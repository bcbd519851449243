import type { Dispatcher } from 'undici';
import type { GatewayAnswer, JsonObject, ProviderCall } from '@aigw/contracts/data-plane';
import { parseChatRequest, unsupportedOperation } from '../core/chat-request';
import { refuseFilesHeldElsewhere } from './gemini-held-files';
import type { ProviderAdapter } from '../core/provider-adapter';
import { sseMessages } from '../core/sse-events';
import { translatedStreamAnswer } from '../core/translated-stream';
import { asCompletionBody, translatedJsonAnswer } from '../core/translated-answer';
import {
  badResponse,
  providerPost,
  sendUpstream,
  sharedUpstreamAgent,
} from '../core/upstream-http';
import { fetchUpstreamJson } from '../core/upstream-json';
import { encodedModelName } from '../core/path-segment';
import { withAliasedToolNames, withRestoredToolNames } from '../core/tool-name-aliases';
import { embeddingAsk, EMBEDDINGS_EXPECTED } from '../core/embedding-input';
import {
  embeddingPartsAnswer,
  embeddingPartsOf,
  type EmbeddingCall,
} from '../core/embedding-parts';
import { embeddingExtras } from '../core/provider-extras';
import { readGeminiEmbedPart, toGeminiEmbedCalls } from './gemini-embeddings';
import { toGeminiRequest } from './gemini-request';
import { fromGeminiResponse } from './gemini-response';
import { GeminiStreamTranslation } from './gemini-stream';

export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

/** batchEmbedContents calls of one embeddings request in flight at once (100 inputs each). */
const PARALLEL_EMBEDDING_CALLS = 4;

/** The resource path of a model: bare names get the `models/` prefix. */
function modelPath(model: string): string {
  return /^(models|tunedModels)\//.test(model) ? model : `models/${model}`;
}

/**
 * The model's resource path as it goes in the URL. A wildcard backend sends the client's
 * model name as it came, so the name after the collection is one encoded segment: a `/`,
 * `..`, `?` or `#` in it must not reach another endpoint of the API with our key.
 */
export function modelUrlPath(model: string): string {
  const path = modelPath(model);
  const slash = path.indexOf('/');
  return `${path.slice(0, slash)}/${encodedModelName(path.slice(slash + 1))}`;
}

/** Google's Gemini API (generateContent, streamGenerateContent, batchEmbedContents). */
export class GeminiAdapter implements ProviderAdapter {
  readonly name = 'google-gemini';

  constructor(private readonly dispatcher: Dispatcher = sharedUpstreamAgent()) {}

  canHandle(provider: string): boolean {
    return provider === 'google-gemini';
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    // Gemini takes function names of at most 64 characters: longer ones (Claude Code's MCP
    // tools) go as aliases and come back whole, as on Vertex AI.
    const aliased = withAliasedToolNames(call);
    return withRestoredToolNames(await this.answer(aliased.call), aliased.originals);
  }

  private async answer(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    const base = `${(target.baseUrl ?? GEMINI_BASE_URL).replace(/\/+$/, '')}/${modelUrlPath(target.model)}`;
    const post = (url: string, body: JsonObject) => providerPost(call, url, body);

    switch (request.operation) {
      case 'completions':
      case 'transcriptions':
      case 'translations':
      case 'speech':
      case 'images':
      case 'image-edits':
      case 'image-variations':
      case 'moderations':
      case 'rerank':
      case 'realtime':
        throw unsupportedOperation('google-gemini', request.operation);
      case 'embeddings': {
        const ask = embeddingAsk(request.body);
        const extras = embeddingExtras(request.body, ask.inputs.length);
        const calls = toGeminiEmbedCalls(modelPath(target.model), ask, extras);
        const embed = async ({ body, batch }: EmbeddingCall) => {
          const answer = await fetchUpstreamJson(
            call,
            post(`${base}:batchEmbedContents`, body),
            this.dispatcher,
          );
          const part = readGeminiEmbedPart(answer.body, batch, ask.dimensions);
          if (!part) throw badResponse(target.backendName, EMBEDDINGS_EXPECTED);
          return part;
        };
        const parts = await embeddingPartsOf(calls, PARALLEL_EMBEDDING_CALLS, embed);
        return embeddingPartsAnswer(call, ask, parts);
      }
      case 'chat':
        break;
    }

    // Several candidates (n, as candidateCount): a JSON answer's choices, or a stream's.
    const prompt = parseChatRequest(request.body, {
      choices: true,
      logprobs: true,
      geminiTools: true,
      imageOutput: true,
      assistantImages: true,
      heldFiles: true,
      audio: true,
    });
    refuseFilesHeldElsewhere(prompt, target);
    const body = toGeminiRequest(prompt);
    if (request.stream) {
      const response = await sendUpstream(
        call,
        post(`${base}:streamGenerateContent?alt=sse`, body),
        this.dispatcher,
      );
      const translation = new GeminiStreamTranslation(
        target.backendName,
        target.model,
        prompt.choices,
      );
      return translatedStreamAnswer(call, sseMessages(response.body), translation);
    }
    return translatedJsonAnswer(
      call,
      post(`${base}:generateContent`, body),
      this.dispatcher,
      (parsed) =>
        asCompletionBody(
          fromGeminiResponse(parsed, target.model, target.backendName, prompt.choices),
        ),
      'a body that is not a GenerateContentResponse',
    );
  }
}
