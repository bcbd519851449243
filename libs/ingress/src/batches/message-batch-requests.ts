import type { IncomingHttpHeaders } from 'node:http';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { translateMessagesRequest } from '../anthropic/domain/anthropic-request';
import { messagesBodyOptions } from '../anthropic/messages-betas';
import type { RedactionTally } from '../redaction/redactor';
import { BatchEstimator, type BatchEstimate } from './batch-estimate';
import { invalid, type Screen } from './held-api';

/** Anthropic's own limit on a message batch's requests. */
export const MAX_MESSAGE_BATCH_REQUESTS = 100_000;
/** Anthropic's rule for a request's `custom_id`. */
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A message batch's requests as read: the one model they name, and what they may cost. */
export interface MessageBatchRequests {
  readonly model: string;
  /** The requests, each under the route's prompt rules (not yet sent: see `sentTo`). */
  readonly requests: readonly JsonObject[];
  readonly estimate: BatchEstimate;
}

/**
 * A `POST /v1/messages/batches` body's requests, checked as Anthropic checks them (a
 * `custom_id` each, unique; `params` a Messages body) and all naming one model: a batch
 * runs at one backend. No prompt rule is checked here (see `screenMessageBatch`).
 */
export function readMessageBatchRequests(body: unknown): {
  model: string;
  requests: readonly JsonObject[];
} {
  if (!isObject(body)) throw invalid('The request body must be a JSON object');
  const { requests } = body;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw invalid('requests: Field required, a list of at least one request', 'requests');
  }
  if (requests.length > MAX_MESSAGE_BATCH_REQUESTS) {
    throw invalid(
      `requests: at most ${MAX_MESSAGE_BATCH_REQUESTS} requests in one batch`,
      'requests',
    );
  }
  const seen = new Set<string>();
  let model: string | undefined;
  requests.forEach((request: unknown, at) => {
    const where = `requests.${at}`;
    if (!isObject(request)) throw invalid(`${where}: Input should be an object`, where);
    const { custom_id: customId, params } = request;
    if (typeof customId !== 'string' || !CUSTOM_ID.test(customId)) {
      throw invalid(
        `${where}.custom_id: must be 1 to 64 letters, digits, '_' or '-'`,
        `${where}.custom_id`,
      );
    }
    if (seen.has(customId)) {
      throw invalid(
        `${where}.custom_id: '${customId}' is used by another request; each must be unique`,
        `${where}.custom_id`,
      );
    }
    seen.add(customId);
    if (!isObject(params)) throw invalid(`${where}.params: Field required`, `${where}.params`);
    if (typeof params.model !== 'string' || params.model === '') {
      throw invalid(`${where}.params.model: Field required`, `${where}.params.model`);
    }
    model ??= params.model;
    if (params.model !== model) {
      throw invalid(
        `${where}.params.model: every request of a batch must name the same model through this gateway (a batch runs at one backend): '${model.slice(0, 128)}' first, then '${params.model.slice(0, 128)}'`,
        `${where}.params.model`,
      );
    }
  });
  return { model: model!, requests: requests as JsonObject[] };
}

/**
 * Each request's `params` read as a Messages call is (its translation refuses what
 * /v1/messages refuses) and put under the route's prompt rules (`screen`: block patterns,
 * token ids, unchecked answers); its worst case summed for the batch's hold. The params
 * go to the backend as the client wrote them: a request whose prompt a rule would mask
 * (`redact`) is refused, since the masked text could not be written back into it.
 */
export function screenMessageBatch(
  model: string,
  requests: readonly JsonObject[],
  headers: IncomingHttpHeaders,
  screen: Screen,
  defaultMaxOutputTokens: number,
): MessageBatchRequests {
  const options = { ...messagesBodyOptions(headers), requireMaxTokens: true };
  const estimator = new BatchEstimator(defaultMaxOutputTokens);
  requests.forEach((request, at) => {
    const chat = translateMessagesRequest(request.params, options).chat;
    const tally: RedactionTally = new Map();
    screen(model, 'chat', chat, tally);
    if (tally.size > 0) {
      throw invalid(
        `requests.${at}.params: this route masks parts of prompts (${[...tally.keys()].join(', ')}), which a message batch cannot apply to its requests: send this request to /v1/messages instead, or leave those parts out`,
        `requests.${at}.params`,
      );
    }
    estimator.add('/v1/chat/completions', chat);
  });
  return { model, requests, estimate: estimator.estimate };
}

/** The requests as their backend runs them: each `params.model` its own name for the model. */
export function sentTo(requests: readonly JsonObject[], upstreamModel: string): JsonObject[] {
  return requests.map((request) => ({
    ...request,
    params: { ...(request.params as JsonObject), model: upstreamModel },
  }));
}
