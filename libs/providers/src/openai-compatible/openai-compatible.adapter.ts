import { Agent, request as httpRequest, type Dispatcher } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonObject,
  type Operation,
  type ServedBy,
  type TokenUsage,
  estimateTokens,
  promptText,
} from '@aigw/contracts/data-plane';
import type { ProviderCall } from '@aigw/contracts/data-plane';
import type { ProviderAdapter } from '../core/provider-adapter';
import { sseMessages } from '../core/sse-events';

import { transportError, upstreamHttpError } from '../core/upstream-failure';
import { openAiUsage } from '../core/usage';
import { OPENAI_COMPATIBLE_BASE_URLS, resolveBaseUrl } from './openai-base-urls';

const PATHS: Record<Operation, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

/** How much of an error body we read to find its message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** OpenAI and every provider that speaks its wire format (Mistral, Groq, vLLM, ...). */
export class OpenAiCompatibleAdapter implements ProviderAdapter {
  readonly name = 'openai-compatible';

  // One keep-alive pool per origin, shared by every request to that origin.
  constructor(
    private readonly dispatcher: Dispatcher = new Agent({
      keepAliveTimeout: 30_000,
      connections: 256,
    }),
  ) {}

  canHandle(provider: string): boolean {
    return provider in OPENAI_COMPATIBLE_BASE_URLS;
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    const url = resolveBaseUrl(target.provider, target.baseUrl) + PATHS[request.operation];
    const body: JsonObject = { ...request.body, model: target.model };
    if (request.stream) {
      // Ask for the usage chunk so every stream is billed from reported numbers.
      body.stream_options = { ...(body.stream_options as JsonObject), include_usage: true };
    }
    const headers: Record<string, string> = {
      ...request.forwardHeaders,
      'content-type': 'application/json',
      accept: request.stream ? 'text/event-stream' : 'application/json',
    };
    if (target.credential) {
      headers[target.credential.headerName.toLowerCase()] =
        target.credential.headerPrefix + target.credential.apiKey.reveal();
    }
    const signal = AbortSignal.any([call.signal, AbortSignal.timeout(target.requestTimeoutMs)]);

    let response: Dispatcher.ResponseData;
    try {
      response = await httpRequest(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: target.firstByteTimeoutMs,
        bodyTimeout: target.requestTimeoutMs,
      });
    } catch (error) {
      throw transportError(target.backendName, error, call.signal);
    }

    if (response.statusCode >= 400) {
      const text = await readBounded(response.body, MAX_ERROR_BODY_BYTES);
      throw upstreamHttpError(
        target.backendName,
        response.statusCode,
        text,
        response.headers['retry-after'],
      );
    }

    const servedBy: ServedBy = {
      backend: target.backendName,
      provider: target.provider,
      model: target.model,
    };
    if (!request.stream) {
      const parsed = await readJson(response.body, target.backendName, call.signal);
      const usage = openAiUsage(parsed.usage) ?? {
        inputTokens: estimateTokens(promptText(request.body)),
        outputTokens: estimateTokens(JSON.stringify(parsed.choices ?? '')),
        cachedInputTokens: 0,
        source: 'estimated' as const,
      };
      return { kind: 'json', status: 200, body: parsed, usage, servedBy };
    }

    let settle!: (usage: TokenUsage) => void;
    const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
    const events = openAiStreamEvents(response.body, call, settle);
    return { kind: 'stream', status: 200, events, usage, servedBy };
  }
}

async function readBounded(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    // a broken error body still yields whatever arrived
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

async function readJson(
  body: Dispatcher.ResponseData['body'],
  backendName: string,
  signal: AbortSignal,
): Promise<JsonObject> {
  let text: string;
  try {
    text = await body.text();
  } catch (error) {
    throw transportError(backendName, error, signal);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as JsonObject;
  } catch {
    // reported below
  }
  throw new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    `backend "${backendName}" answered with a body that is not a JSON object`,
  );
}

/**
 * Relays an OpenAI chat stream chunk by chunk. The usage-only chunk we asked for is
 * kept from a client that did not ask for it; a stream that stops before `[DONE]` is an
 * error, never a quietly truncated answer.
 */
async function* openAiStreamEvents(
  body: Dispatcher.ResponseData['body'],
  call: ProviderCall,
  settle: (usage: TokenUsage) => void,
): AsyncGenerator<JsonObject> {
  const { request, target } = call;
  let reported: TokenUsage | undefined;
  let outputChars = 0;
  let done = false;
  try {
    for await (const message of sseMessages(body)) {
      if (message.data === '[DONE]') {
        done = true;
        break;
      }
      let chunk: JsonObject;
      try {
        chunk = JSON.parse(message.data) as JsonObject;
      } catch {
        throw new DataPlaneError(
          DataPlaneErrorCode.StreamInterrupted,
          `backend "${target.backendName}" sent a stream event that is not JSON`,
        );
      }
      if (chunk.error) {
        throw new DataPlaneError(
          DataPlaneErrorCode.StreamInterrupted,
          `backend "${target.backendName}" reported an error mid-stream`,
        );
      }
      const usage = openAiUsage(chunk.usage);
      if (usage) reported = usage;
      const choices = Array.isArray(chunk.choices) ? (chunk.choices as JsonObject[]) : [];
      for (const choice of choices) {
        const delta = choice.delta as JsonObject | undefined;
        if (typeof delta?.content === 'string') outputChars += delta.content.length;
        else if (typeof choice.text === 'string') outputChars += choice.text.length;
      }
      if (usage && choices.length === 0 && !request.clientWantsStreamUsage) continue;
      if (usage && !request.clientWantsStreamUsage) delete chunk.usage;
      yield chunk;
    }
    if (!done) {
      throw new DataPlaneError(
        DataPlaneErrorCode.StreamInterrupted,
        `backend "${target.backendName}" closed the stream before it finished`,
      );
    }
  } catch (error) {
    throw transportError(target.backendName, error, call.signal);
  } finally {
    settle(
      reported ?? {
        inputTokens: estimateTokens(promptText(request.body)),
        outputTokens: Math.ceil(outputChars / 4),
        cachedInputTokens: 0,
        source: 'estimated',
      },
    );
  }
}
