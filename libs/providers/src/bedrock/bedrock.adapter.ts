import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonAnswer,
  type ProviderCall,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { withAliasedToolNames, withRestoredToolNames } from '../core/tool-name-aliases';
import { heldOutputOptions, parseChatRequest, unsupportedOperation } from '../core/chat-request';
import { embeddingAsk, EMBEDDINGS_EXPECTED } from '../core/embedding-input';
import { embeddingPartsAnswer, embeddingPartsOf } from '../core/embedding-parts';
import type { ProviderAdapter } from '../core/provider-adapter';
import { SettingsLeftOut, withDroppedSettings } from '../core/settings-left-out';
import { countTokens, estimatedUsage } from '../core/tokenizer';
import { translatedStreamAnswer } from '../core/translated-stream';
import { asCompletionBody, translatedJsonAnswer } from '../core/translated-answer';
import {
  badResponse,
  credentialHeaders,
  MAX_ERROR_BODY_BYTES,
  sendUpstream,
  sharedUpstreamAgent,
  type UpstreamPost,
} from '../core/upstream-http';
import { fetchUpstreamJson } from '../core/upstream-json';
import {
  bedrockEmbeddingModel,
  type EmbeddingInvocation,
  notAnEmbeddingModel,
  readEmbeddingPart,
} from './bedrock-embeddings';
import { bedrockEvents } from './bedrock-event-stream';
import { converseJsonMode } from './bedrock-json-mode';
import { citesDocuments } from './bedrock-model-id';
import { toConverseRequest } from './bedrock-request';
import { converseServiceTier } from '../core/service-tier';
import { fromConverseResponse } from './bedrock-response';
import { type AwsCredentialsSource, bedrockRegion, BedrockSigner } from './bedrock-signer';
import { BedrockStreamTranslation } from './bedrock-stream';
import { pathSegment } from '../core/path-segment';

/**
 * InvokeModel calls of one embeddings request in flight at once: Titan embeds one text
 * per call, and a long input list must not take all of the account's request quota.
 */
const PARALLEL_EMBEDDING_CALLS = 8;

/** Where a backend's calls go: Bedrock Runtime's origin and the region signatures name. */
interface BedrockEndpoint {
  readonly base: string;
  readonly region: string;
}

/**
 * AWS Bedrock's Converse and ConverseStream for chat, and InvokeModel for embeddings
 * (Amazon Titan Text Embeddings, Cohere Embed). Requests are SigV4-signed with the
 * default AWS credential chain; a backend configured with an API key (a Bedrock API key)
 * sends it as a bearer token instead.
 */
export class BedrockAdapter implements ProviderAdapter {
  readonly name = 'bedrock';
  private readonly signer: BedrockSigner;

  constructor(
    private readonly dispatcher: Dispatcher = sharedUpstreamAgent(),
    credentials?: AwsCredentialsSource,
  ) {
    this.signer = new BedrockSigner(credentials);
  }

  canHandle(provider: string): boolean {
    return provider === 'bedrock';
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    try {
      // Converse takes tool names of at most 64 characters: longer ones (Claude Code's
      // MCP tools) go as aliases and come back as the client's own.
      const aliased = withAliasedToolNames(call);
      return withRestoredToolNames(await this.call(aliased.call), aliased.originals);
    } catch (error) {
      throw modelFailureAsBackendError(error);
    }
  }

  private async call(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    if (request.operation === 'embeddings') return this.embed(call);
    if (request.operation !== 'chat') throw unsupportedOperation('bedrock', request.operation);
    // Claude's thinking needs a max_tokens: without the client's, from the one admission held.
    // Claude cites the documents that ask for it on Bedrock too (Converse's citations).
    const prompt = parseChatRequest(request.body, {
      ...heldOutputOptions(request),
      documentCitations: citesDocuments(target.model),
    });
    // A JSON response_format: a forced answer tool, or structured outputs, by family.
    const jsonMode = converseJsonMode(prompt, target.model);
    const tool = jsonMode?.kind === 'tool' ? jsonMode.tool : undefined;
    const answerToolName = tool?.name;
    const leftOut = new SettingsLeftOut();
    const converse = toConverseRequest(prompt, tool, target.model, leftOut.leaveOut);
    if (jsonMode?.kind === 'output-config') converse.outputConfig = jsonMode.outputConfig;
    if (prompt.serviceTier !== undefined) {
      const tier = converseServiceTier(prompt.serviceTier);
      if (tier) converse.serviceTier = tier;
      else if (tier === undefined) leftOut.leaveOut('service_tier', 'unsupported');
    }
    const body = JSON.stringify(converse);
    const endpoint = bedrockEndpoint(target);
    const operation = request.stream ? 'converse-stream' : 'converse';
    const accept = request.stream ? 'application/vnd.amazon.eventstream' : 'application/json';
    const post = await this.post(call, endpoint, modelUrl(endpoint, target, operation), {
      accept,
      body,
    });
    if (request.stream) {
      const response = await sendUpstream(call, post, this.dispatcher);
      const contentType = response.headers['content-type'];
      if (!isEventStream(contentType)) {
        // Read and dropped in the background, so a small body leaves its socket reusable.
        response.body.dump({ limit: MAX_ERROR_BODY_BYTES }).catch(() => undefined);
        throw badResponse(
          target.backendName,
          `${String(contentType).slice(0, 100)} instead of an event stream`,
        );
      }
      const translation = new BedrockStreamTranslation(
        target.backendName,
        converseId(response.headers),
        target.model,
        answerToolName,
      );
      const events = bedrockEvents(response.body, target.backendName);
      return withDroppedSettings(translatedStreamAnswer(call, events, translation), leftOut.list);
    }
    const answer = await translatedJsonAnswer(
      call,
      post,
      this.dispatcher,
      (parsed, headers) =>
        asCompletionBody(
          fromConverseResponse(parsed, {
            id: converseId(headers),
            model: target.model,
            backendName: target.backendName,
            estimateUsage: (generated) => estimatedUsage(request.body, countTokens(generated)),
            answerTool: answerToolName,
          }),
        ),
      'a body that is not a Converse response',
    );
    return withDroppedSettings(answer, leftOut.list);
  }

  /**
   * Embeddings through InvokeModel, in the model family's own body (Titan, Cohere Embed):
   * the request's inputs split into the calls the model takes, at most
   * PARALLEL_EMBEDDING_CALLS at once, and the vectors put back in input order.
   */
  private async embed(call: ProviderCall): Promise<JsonAnswer> {
    const { request, target } = call;
    const model = bedrockEmbeddingModel(target.model);
    if (!model) throw notAnEmbeddingModel(target.model);
    const ask = embeddingAsk(request.body);
    const invocations = model.invocations(ask, request.body);
    const endpoint = bedrockEndpoint(target);
    const url = modelUrl(endpoint, target, 'invoke');
    const invoke = async (invocation: EmbeddingInvocation) => {
      const body = JSON.stringify(invocation.body);
      const post = await this.post(call, endpoint, url, { accept: 'application/json', body });
      const answer = await fetchUpstreamJson(call, post, this.dispatcher);
      const part = readEmbeddingPart(model, invocation, answer, ask.dimensions);
      if (!part) throw badResponse(target.backendName, EMBEDDINGS_EXPECTED);
      return part;
    };
    const parts = await embeddingPartsOf(invocations, PARALLEL_EMBEDDING_CALLS, invoke);
    return embeddingPartsAnswer(call, ask, parts);
  }

  /**
   * A JSON POST to Bedrock Runtime with the caller's forwarded headers: SigV4-signed, or
   * with the backend's Bedrock API key as a bearer token instead.
   */
  private async post(
    call: ProviderCall,
    endpoint: BedrockEndpoint,
    url: URL,
    content: { accept: string; body: string },
  ): Promise<UpstreamPost> {
    const { request, target } = call;
    const headers = { 'content-type': 'application/json', accept: content.accept };
    const sent = target.credential
      ? { ...headers, ...credentialHeaders(target) }
      : await this.sign(url, endpoint.region, headers, content.body, target.backendName);
    return {
      url: url.toString(),
      headers: { ...request.forwardHeaders, ...sent },
      body: content.body,
    };
  }

  private async sign(
    url: URL,
    region: string,
    headers: Record<string, string>,
    body: string,
    backendName: string,
  ): Promise<Record<string, string>> {
    try {
      return await this.signer.sign(url, region, headers, body);
    } catch (error) {
      // No usable credentials is this backend's failure: another backend may still serve.
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamError,
        `backend "${backendName}" could not sign its request: no usable AWS credentials`,
        { cause: error },
      );
    }
  }
}

/**
 * Bedrock Runtime answers 424 (ModelErrorException) when the model behind it failed, not
 * the request: the backend's failure, which fails over, rather than the client's 400 that
 * a 4xx status would otherwise be.
 */
function modelFailureAsBackendError(error: unknown): unknown {
  if (!(error instanceof DataPlaneError) || error.upstreamStatus !== 424) return error;
  return new DataPlaneError(DataPlaneErrorCode.UpstreamError, error.message, {
    upstreamStatus: error.upstreamStatus,
    retryAfterMs: error.retryAfterMs,
    cause: error,
  });
}

/** The backend's Bedrock Runtime: its baseUrl, else the regional endpoint. */
function bedrockEndpoint(target: UpstreamTarget): BedrockEndpoint {
  const region = bedrockRegion(target.baseUrl);
  if (!region) {
    throw new DataPlaneError(
      DataPlaneErrorCode.Internal,
      `backend "${target.backendName}" needs an AWS region: a regional baseUrl or AWS_REGION`,
    );
  }
  const base = target.baseUrl ?? `https://bedrock-runtime.${region}.amazonaws.com`;
  return { base: base.replace(/\/+$/, ''), region };
}

/** `{base}/model/{id}/{operation}`; ids and ARNs carry ':' and '/', so one encoded segment. */
function modelUrl(endpoint: BedrockEndpoint, target: UpstreamTarget, operation: string): URL {
  return new URL(`${endpoint.base}/model/${pathSegment(target.model)}/${operation}`);
}

/** The completion id: Bedrock's own request id when it sent one. */
function converseId(headers: IncomingHttpHeaders): string {
  const requestId = headers['x-amzn-requestid'];
  return `chatcmpl-${typeof requestId === 'string' ? requestId : randomUUID()}`;
}

/**
 * Whether a ConverseStream answer is the binary event stream; one that says it is
 * something else (a proxy's JSON or HTML) is refused before it is read as frames.
 */
function isEventStream(contentType: string | string[] | undefined): boolean {
  if (contentType === undefined) return true; // unlabelled: the decoder judges the bytes
  const mediaType = String(contentType).split(';')[0].trim().toLowerCase();
  return mediaType === 'application/vnd.amazon.eventstream';
}
