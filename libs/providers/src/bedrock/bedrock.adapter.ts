import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import { answerTool } from '../core/answer-tool';
import { parseChatRequest, unsupportedOperation } from '../core/chat-request';
import type { ProviderAdapter } from '../core/provider-adapter';
import { countTokens, estimatedUsage } from '../core/tokenizer';
import { translatedStreamAnswer } from '../core/translated-stream';
import { asCompletionBody, translatedJsonAnswer } from '../core/translated-answer';
import {
  badResponse,
  credentialHeaders,
  MAX_ERROR_BODY_BYTES,
  sendUpstream,
  sharedUpstreamAgent,
} from '../core/upstream-http';
import { bedrockEvents } from './bedrock-event-stream';
import { toConverseRequest } from './bedrock-request';
import { fromConverseResponse } from './bedrock-response';
import { type AwsCredentialsSource, bedrockRegion, BedrockSigner } from './bedrock-signer';
import { BedrockStreamTranslation } from './bedrock-stream';

/**
 * AWS Bedrock's Converse and ConverseStream. Requests are SigV4-signed with the default
 * AWS credential chain; a backend configured with an API key (a Bedrock API key) sends
 * it as a bearer token instead.
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
    const { request, target } = call;
    if (request.operation !== 'chat') throw unsupportedOperation('bedrock', request.operation);
    const prompt = parseChatRequest(request.body);
    // A JSON response_format goes through a forced answer tool: Converse has no plain JSON
    // mode, and its structured outputs (`outputConfig.textFormat`) take only the models
    // Bedrock lists for them, while the openai SDKs' parse helpers mark every schema strict.
    const tool = answerTool(prompt, 'bedrock');
    const answerToolName = tool?.name;
    const body = JSON.stringify(toConverseRequest(prompt, tool));
    const region = bedrockRegion(target.baseUrl);
    if (!region) {
      throw new DataPlaneError(
        DataPlaneErrorCode.Internal,
        `backend "${target.backendName}" needs an AWS region: a regional baseUrl or AWS_REGION`,
      );
    }
    const base = (target.baseUrl ?? `https://bedrock-runtime.${region}.amazonaws.com`).replace(
      /\/+$/,
      '',
    );
    // Model ids and ARNs carry ':' and '/', so the id is one encoded path segment.
    const operation = request.stream ? 'converse-stream' : 'converse';
    const url = new URL(`${base}/model/${encodeURIComponent(target.model)}/${operation}`);
    const headers = {
      'content-type': 'application/json',
      accept: request.stream ? 'application/vnd.amazon.eventstream' : 'application/json',
    };
    const sent = target.credential
      ? { ...headers, ...credentialHeaders(target) }
      : await this.sign(url, region, headers, body, target.backendName);

    const post = { url: url.toString(), headers: { ...request.forwardHeaders, ...sent }, body };
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
      return translatedStreamAnswer(call, events, translation);
    }
    return translatedJsonAnswer(
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
