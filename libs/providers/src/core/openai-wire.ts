import type { Dispatcher } from 'undici';
import {
  checkTextOrTokens,
  MAX_BODY_DEPTH,
  nestsDeeperThan,
  type GatewayAnswer,
  type JsonObject,
  type Operation,
  type ProviderCall,
  type ServedBy,
  type TokenUsage,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { inAskedEncoding, unaskedEmbeddingSize } from './embedding-encoding';
import { reportedStreamError } from './reported-error-status';
import { openAiAnswerProblem, openAiChunkProblem } from './openai-answer-shape';
import { withSpentUsage } from './spent-usage';
import { sseMessages } from './sse-events';
import { streamEventObject } from './stream-event-json';
import { bodyChunks } from './upstream-body';
import { withoutGatewayExtensions, type ExtensionStripping } from './openai-extensions';
import { aliasLongToolNames, restoreToolNames } from './tool-name-aliases';
import { DistinctToolIndexes } from './distinct-tool-indexes';
import { StreamedToolNames } from './streamed-tool-names';
import { choiceFailed, UnfinishedChoices } from './unfinished-choices';
import { countTokens, estimatedUsage, OutputTally } from './tokenizer';
import { continuedPrefix, EchoedPrefixStripper, stripEchoedPrefix } from './echoed-prefix';
import { splitAnswerThinking, splitDeltaThinking } from './thinking-chunks';
import {
  badResponse,
  providerPost,
  sendUpstream,
  streamFailure,
  streamInterrupted,
} from './upstream-http';
import { fetchUpstreamJson } from './upstream-json';
import { openAiUsage, withServedTier } from './usage';

/** Where an OpenAI-format call goes, and what of the gateway's extensions it keeps. */
export interface OpenAiWireEndpoint extends ExtensionStripping {
  readonly url: string;
  /** Drop stream chunks that carry neither choices nor usage (provider annotations). */
  readonly skipChoicelessChunks?: boolean;
  /**
   * Send a chat request's `max_tokens` as `max_completion_tokens`: OpenAI's reasoning
   * models (o-series, gpt-5) refuse `max_tokens`, which the Messages and Responses edges
   * write, while every OpenAI and Azure chat model takes `max_completion_tokens`. Only for
   * those two: much of the compatible family (DeepSeek, Mistral) knows `max_tokens` alone.
   */
  readonly maxTokensAsCompletionTokens?: boolean;
  /**
   * Send a chat request's `max_completion_tokens` as `max_tokens`: the backend defines only
   * `max_tokens` (provider-fields.ts), and an answer it does not cap outruns the budget hold.
   */
  readonly completionTokensAsMaxTokens?: boolean;
  /** The backend defines no `service_tier`: it is left out (reported as unsupported). */
  readonly leavesOutServiceTier?: boolean;
  /**
   * The backend defines no `stream_options` and refuses the field (Mistral: 422 "Extra
   * inputs are not permitted"); it puts the usage on its last chunk unasked.
   */
  readonly refusesStreamOptions?: boolean;
  /**
   * The backend starts its answer to a chat ending on an assistant message with `prefix:
   * true` with that prefix (Mistral): it is taken off, so clients get the continuation alone.
   */
  readonly echoesPrefix?: boolean;
  /**
   * The backend answers a reasoning model's thinking as lists of content chunks (Mistral):
   * they reach clients as `reasoning_content` and the text as a `content` string, and are
   * counted in an estimated usage as reasoning_content is (thinking-chunks).
   */
  readonly splitsThinkingChunks?: boolean;
}

export function servedByTarget(call: ProviderCall): ServedBy {
  return servedByOf(call.target);
}

/**
 * Who serves a call to `target`: its backend, the backend's route (left out when the
 * target names none: a caller of an older build), provider and model.
 */
export function servedByOf(target: UpstreamTarget): ServedBy {
  const { backendName: backend, routeName: route, provider, model } = target;
  return route === undefined ? { backend, provider, model } : { backend, route, provider, model };
}

/**
 * One call to an endpoint that speaks OpenAI's wire format (OpenAI, its compatible
 * family, Azure OpenAI): the body goes as the client sent it, with the served model and
 * without the gateway's own extensions (caching marks, `thinking`, reasoning carried back
 * on assistant turns), and streams ask for the usage chunk so they are billed from
 * reported numbers.
 */
export async function invokeOpenAiWire(
  call: ProviderCall,
  endpoint: OpenAiWireEndpoint,
  dispatcher: Dispatcher,
): Promise<GatewayAnswer> {
  const { request, target } = call;
  if (request.operation === 'embeddings') checkTextOrTokens(request.body, 'input');
  if (request.operation === 'completions') checkTextOrTokens(request.body, 'prompt');
  // Tool names past OpenAI's 64 go as aliases and come back as the client's own.
  const aliased = aliasLongToolNames(request.body);
  const plain = withoutGatewayExtensions(aliased.body, endpoint, target.backendName);
  const body: JsonObject = { ...plain, model: target.model };
  if (request.operation === 'chat') {
    if (endpoint.maxTokensAsCompletionTokens) renameMaxTokens(body);
    else if (endpoint.completionTokensAsMaxTokens) renameCompletionTokens(body);
  }
  if (endpoint.leavesOutServiceTier) delete body.service_tier;
  if (endpoint.refusesStreamOptions) {
    delete body.stream_options;
  } else if (request.stream) {
    body.stream_options = { ...(body.stream_options as JsonObject), include_usage: true };
  }
  const post = providerPost(call, endpoint.url, body);
  const servedBy = servedByTarget(call);
  const echoedPrefix =
    endpoint.echoesPrefix && request.operation === 'chat' ? continuedPrefix(body) : undefined;
  if (!request.stream) {
    const { body: parsed } = await fetchUpstreamJson(call, post, dispatcher);
    // What the client's SDK reads: without it the answer is no answer (fail over).
    const problem = openAiAnswerProblem(request.operation, parsed);
    if (problem) throw badResponse(target.backendName, problem);
    if (Array.isArray(parsed.choices)) parsed.choices.forEach(withOpenAiFinishReason);
    if (endpoint.splitsThinkingChunks && request.operation === 'chat') splitAnswerThinking(parsed);
    restoreToolNames(parsed, aliased.originals);
    const usage = withServedTier(
      openAiUsage(parsed.usage, request.operation) ??
        estimatedUsage(request.body, estimatedOutputTokens(request.operation, parsed)),
      parsed.service_tier,
    );
    // After the usage: the echoed text was generated (and is billed) all the same.
    if (echoedPrefix !== undefined) stripEchoedPrefix(parsed, echoedPrefix);
    if (request.operation === 'embeddings') {
      // Billed all the same: the refusal carries the usage to metering.
      const unasked = unaskedEmbeddingSize(parsed, request.body, target.backendName);
      if (unasked) throw withSpentUsage(unasked, usage);
    }
    const answer =
      request.operation === 'embeddings' ? inAskedEncoding(parsed, request.body) : parsed;
    return { kind: 'json', status: 200, body: answer, usage, servedBy };
  }

  const response = await sendUpstream(call, post, dispatcher);
  let settle!: (usage: TokenUsage) => void;
  const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
  const events = openAiStreamEvents(response.body, call, settle, {
    skipChoiceless: endpoint.skipChoicelessChunks,
    splitsThinkingChunks: endpoint.splitsThinkingChunks,
    echoedPrefix,
    toolNames: aliased.originals,
    tools: Array.isArray(body.tools) && body.tools.length > 0 ? body.tools : undefined,
  });
  return { kind: 'stream', status: 200, events, usage, servedBy };
}

/**
 * Relays an OpenAI chat stream chunk by chunk. The usage-only chunk we asked for is
 * kept from a client that did not ask for it; a stream that stops before `[DONE]`, or
 * reaches it with a choice never finished, is an error, never a quietly truncated answer.
 */
async function* openAiStreamEvents(
  body: Dispatcher.ResponseData['body'],
  call: ProviderCall,
  settle: (usage: TokenUsage) => void,
  relay: {
    skipChoiceless?: boolean;
    splitsThinkingChunks?: boolean;
    echoedPrefix?: string;
    /** Alias to client's name of tools whose names were too long for the backend. */
    toolNames?: ReadonlyMap<string, string>;
    /** The tools as sent (aliases in): each call's name is handed on whole. */
    tools?: readonly unknown[];
  },
): AsyncGenerator<JsonObject> {
  const { request, target } = call;
  const skipChoiceless = relay.skipChoiceless ?? false;
  const prefix =
    relay.echoedPrefix === undefined ? undefined : new EchoedPrefixStripper(relay.echoedPrefix);
  let reported: TokenUsage | undefined;
  /**
   * The tier the backend served at, which its chunks name (OpenAI: each of them): the last
   * named, a chunk naming none (null) leaving it as it was.
   */
  let servedTier: string | undefined;
  const output = new OutputTally();
  let done = false;
  const unfinished = new UnfinishedChoices();
  let relayedAny = false;
  const toolIndexes = new DistinctToolIndexes();
  // Only a stream whose request offered tools may hold a call's name back.
  const toolNames =
    relay.toolNames || relay.tools
      ? new StreamedToolNames({ originals: relay.toolNames, tools: relay.tools })
      : undefined;
  try {
    for await (const message of sseMessages(bodyChunks(body))) {
      if (message.data === '[DONE]') {
        done = true;
        break;
      }
      const chunk = streamEventObject(target.backendName, message.data);
      if (chunk.error) throw reportedStreamError(target.backendName, chunk.error, relayedAny);
      const problem = openAiChunkProblem(chunk);
      if (problem) throw streamInterrupted(target.backendName, `sent ${problem}`);
      // Relayed as it came: an answer nested past what any code here may walk is refused.
      if (nestsDeeperThan(chunk, MAX_BODY_DEPTH)) {
        throw streamInterrupted(target.backendName, 'sent a stream event nested too deeply');
      }
      if (typeof chunk.service_tier === 'string') servedTier = chunk.service_tier;
      // The usage we asked for, whether or not its counts are usable (else it is estimated).
      const carriesUsage = typeof chunk.usage === 'object' && chunk.usage !== null;
      reported =
        openAiUsage(chunk.usage, request.operation) ??
        openAiUsage(groqUsage(chunk), request.operation) ??
        reported;
      const choices = Array.isArray(chunk.choices) ? (chunk.choices as JsonObject[]) : [];
      for (const choice of choices) {
        if (!isJsonObject(choice)) continue; // relayed as sent; it carries no text to count
        if (choiceFailed(choice)) {
          throw streamInterrupted(target.backendName, 'finished a choice with an error');
        }
        withOpenAiFinishReason(choice);
        // Before the tally, so an estimate counts the thinking as reasoning_content.
        if (relay.splitsThinkingChunks) splitDeltaThinking(choice);
        unfinished.saw(choice);
        // Before the names are held back and the edges read the calls: both key them by index.
        toolIndexes.renumber(choice);
        // DeepSeek and vLLM stream reasoning apart from the answer; it is billed as output,
        // as are tool calls' names and arguments (an answer may hold nothing else).
        output.addDelta(choice.delta);
        const delta = choice.delta as JsonObject | undefined;
        // A completions stream's text.
        if (typeof delta?.content !== 'string' && typeof choice.text === 'string') {
          output.add(choice.text);
        }
        // After the tally: the echoed text was generated all the same.
        prefix?.strip(choice);
      }
      if (
        choices.length === 0 &&
        (carriesUsage ? !request.clientWantsStreamUsage : skipChoiceless)
      ) {
        continue;
      }
      if (carriesUsage && !request.clientWantsStreamUsage) delete chunk.usage;
      // Undefined for the chunk as it came (no name held or put back): nothing allocated.
      const inPlace = toolNames?.pass(chunk);
      if (inPlace === undefined) {
        relayedAny = true;
        yield chunk;
        continue;
      }
      for (const relayed of inPlace) {
        relayedAny = true;
        yield relayed;
      }
    }
    if (!done) throw streamInterrupted(target.backendName, 'closed the stream before it finished');
    // [DONE] alone (or after usage alone): no answer, though it looks like a finished one.
    if (!unfinished.sawChoice) {
      throw streamInterrupted(target.backendName, 'ended the stream without any choice');
    }
    if (unfinished.any) {
      throw streamInterrupted(target.backendName, 'ended the stream without a finish_reason');
    }
    if (toolNames) yield* toolNames.end();
  } catch (error) {
    throw streamFailure(target.backendName, error, call.signal);
  } finally {
    settle(withServedTier(reported ?? estimatedUsage(request.body, output.tokens), servedTier));
  }
}

/**
 * The output tokens of an answer that reported none: its choices' text; an embeddings
 * list generates none (its `choices`, absent, were once counted as `""`, a token each).
 */
function estimatedOutputTokens(operation: Operation, answer: JsonObject): number {
  if (operation === 'embeddings') return 0;
  return countTokens(JSON.stringify(answer.choices ?? ''));
}

/**
 * Finish reasons of the compatible family by OpenAI's names, which typed clients know (some
 * fail to parse another) and the edges translate: Mistral's `model_length` (cut by the
 * model's context) is `length`, Together's `eos` (the model's end of sequence) is `stop`.
 */
const OPENAI_FINISH_REASONS: Readonly<Record<string, string>> = {
  model_length: 'length',
  eos: 'stop',
};

/** A choice's finish_reason as OpenAI names it (OPENAI_FINISH_REASONS). */
function withOpenAiFinishReason(choice: unknown): void {
  if (!isJsonObject(choice) || typeof choice.finish_reason !== 'string') return;
  if (Object.hasOwn(OPENAI_FINISH_REASONS, choice.finish_reason)) {
    choice.finish_reason = OPENAI_FINISH_REASONS[choice.finish_reason];
  }
}

/** The usage Groq puts on a stream's last chunk in its own `x_groq`, asked or not. */
function groqUsage(chunk: JsonObject): unknown {
  return isJsonObject(chunk.x_groq) ? chunk.x_groq.usage : undefined;
}

/** `max_tokens` as `max_completion_tokens`, unless the client sent that itself (it wins). */
function renameMaxTokens(body: JsonObject): void {
  if (body.max_tokens === undefined) return;
  if (body.max_completion_tokens === undefined) body.max_completion_tokens = body.max_tokens;
  delete body.max_tokens;
}

/**
 * `max_completion_tokens` as `max_tokens`. It wins over a client's own `max_tokens`, as it
 * does at OpenAI and in the budget hold, which reserves for `max_completion_tokens` first.
 */
function renameCompletionTokens(body: JsonObject): void {
  if (body.max_completion_tokens === undefined) return;
  body.max_tokens = body.max_completion_tokens;
  delete body.max_completion_tokens;
}
