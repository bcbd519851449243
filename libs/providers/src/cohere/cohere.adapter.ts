import type { Dispatcher } from 'undici';
import type { GatewayAnswer, JsonObject, ProviderCall } from '@aigw/contracts/data-plane';
import { parseChatRequest, unsupportedOperation } from '../core/chat-request';
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
import { withAliasedToolNames, withRestoredToolNames } from '../core/tool-name-aliases';
import { embeddingAsk, EMBEDDINGS_EXPECTED } from '../core/embedding-input';
import {
  embeddingPartsAnswer,
  embeddingPartsOf,
  type EmbeddingCall,
} from '../core/embedding-parts';
import { rerankAnswer, RERANK_EXPECTED } from '../core/rerank';
import { readCohereEmbedPart, toCohereEmbedCalls } from './cohere-embeddings';
import { toCohereRequest } from './cohere-request';
import { toCohereRerankRequest } from './cohere-rerank';
import { fromCohereResponse } from './cohere-response';
import { CohereStreamTranslation } from './cohere-stream';

export const COHERE_BASE_URL = 'https://api.cohere.com';

/** /v2/embed calls of one embeddings request in flight at once (96 texts each). */
const PARALLEL_EMBEDDING_CALLS = 4;

/** Cohere's v2 API: /v2/chat (plain and streaming), /v2/embed and /v2/rerank, with a bearer key. */
export class CohereAdapter implements ProviderAdapter {
  readonly name = 'cohere';

  constructor(private readonly dispatcher: Dispatcher = sharedUpstreamAgent()) {}

  canHandle(provider: string): boolean {
    return provider === 'cohere';
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    // Tool names past 64 characters (Claude Code's MCP tools) go as aliases and come back
    // whole; an alias holds only letters, digits and underscores, the characters Cohere's
    // tool docs name (v1's; v2's state no rule).
    const aliased = withAliasedToolNames(call);
    return withRestoredToolNames(await this.answer(aliased.call), aliased.originals);
  }

  private async answer(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    const base = (target.baseUrl ?? COHERE_BASE_URL).replace(/\/+$/, '').replace(/\/v[12]$/, '');
    const post = (path: string, body: JsonObject) => providerPost(call, `${base}${path}`, body);

    switch (request.operation) {
      case 'completions':
      case 'transcriptions':
      case 'translations':
      case 'speech':
      case 'images':
      case 'image-edits':
      case 'image-variations':
      case 'moderations':
      case 'realtime':
        throw unsupportedOperation('cohere', request.operation);
      case 'rerank':
        return translatedJsonAnswer(
          call,
          post('/v2/rerank', toCohereRerankRequest(target.model, request.body)),
          this.dispatcher,
          (parsed) => rerankAnswer(request.body, parsed),
          RERANK_EXPECTED,
        );
      case 'embeddings': {
        const ask = embeddingAsk(request.body);
        const calls = toCohereEmbedCalls(target.model, ask, request.body);
        const embed = async ({ body, batch }: EmbeddingCall) => {
          const answer = await fetchUpstreamJson(call, post('/v2/embed', body), this.dispatcher);
          const part = readCohereEmbedPart(answer.body, batch, ask.dimensions);
          if (!part) throw badResponse(target.backendName, EMBEDDINGS_EXPECTED);
          return part;
        };
        const parts = await embeddingPartsOf(calls, PARALLEL_EMBEDDING_CALLS, embed);
        return embeddingPartsAnswer(call, ask, parts);
      }
      case 'chat':
        break;
    }

    const body = toCohereRequest(parseChatRequest(request.body), target.model, request.stream);
    if (request.stream) {
      const response = await sendUpstream(call, post('/v2/chat', body), this.dispatcher);
      const translation = new CohereStreamTranslation(target.backendName, target.model);
      return translatedStreamAnswer(call, sseMessages(response.body), translation);
    }
    return translatedJsonAnswer(
      call,
      post('/v2/chat', body),
      this.dispatcher,
      (parsed) => asCompletionBody(fromCohereResponse(parsed, target.model, target.backendName)),
      'a body that is not a v2 chat response',
    );
  }
}
