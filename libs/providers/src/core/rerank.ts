import type { Dispatcher } from 'undici';
import {
  rerankDocumentTexts,
  rerankSearchUnits,
  type JsonAnswer,
  type JsonObject,
  type ProviderCall,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { countTokens } from './tokenizer';
import { translatedJsonAnswer } from './translated-answer';
import { providerPost } from './upstream-http';

export const RERANK_EXPECTED = 'a body without its "results" list';

/**
 * One rerank at an OpenAI-compatible server that serves Cohere's shape (vLLM, KServe's
 * Hugging Face runtime, Together, LiteLLM): the body with the served model and the
 * documents as texts, the answer as it came but for the documents it returns
 * (`return_documents`, see rerankAnswerBody).
 */
export function invokeOpenAiRerank(
  call: ProviderCall,
  url: string,
  dispatcher: Dispatcher,
): Promise<JsonAnswer> {
  const { request, target } = call;
  const texts = rerankDocumentTexts(request.body.documents) ?? [];
  const post = providerPost(call, url, { ...request.body, model: target.model, documents: texts });
  return translatedJsonAnswer(
    call,
    post,
    dispatcher,
    (body) => rerankAnswer(request.body, body),
    RERANK_EXPECTED,
  );
}

/** The client's answer and its usage, or undefined for a body without results. */
export function rerankAnswer(
  asked: JsonObject,
  answer: JsonObject,
): { body: JsonObject; usage: TokenUsage } | undefined {
  if (!Array.isArray(answer.results)) return undefined;
  return { body: rerankAnswerBody(asked, answer), usage: rerankUsage(asked, answer) };
}

/**
 * The answer as the client asked: with each result's `{text}` document when
 * `return_documents` is true (Cohere's v2 API returns none, so they are taken from the
 * request by index; Infinity returns each as a bare string, put in Cohere's `{text}`),
 * without them when it is false; as the backend sent it otherwise.
 */
export function rerankAnswerBody(asked: JsonObject, answer: JsonObject): JsonObject {
  const wanted = asked.return_documents;
  if (wanted !== true && wanted !== false) return answer;
  const texts = rerankDocumentTexts(asked.documents) ?? [];
  const results = (answer.results as unknown[]).map((result) => {
    if (!isJsonObject(result)) return result;
    const { document, ...rest } = result;
    if (!wanted) return rest;
    if (typeof document === 'string') return { ...rest, document: { text: document } };
    if (document !== undefined && document !== null) return result;
    const text = typeof rest.index === 'number' ? texts[rest.index] : undefined;
    return text === undefined ? rest : { ...rest, document: { text } };
  });
  return { ...answer, results };
}

/**
 * What a rerank used: Cohere's billed search units and tokens (`meta.billed_units`,
 * `meta.tokens`), or the tokens an OpenAI-compatible server reports (`usage`: vLLM's
 * total_tokens, Together's prompt_tokens); failing both, the query's and documents'
 * tokens and the search units they make, marked estimated. Reported when the backend said
 * what it bills (Cohere's search units, or a server's tokens).
 */
export function rerankUsage(asked: JsonObject, answer: JsonObject): TokenUsage {
  const meta = isJsonObject(answer.meta) ? answer.meta : undefined;
  const billed = meta && isJsonObject(meta.billed_units) ? meta.billed_units : undefined;
  const tokens = meta && isJsonObject(meta.tokens) ? meta.tokens : undefined;
  const usage = isJsonObject(answer.usage) ? answer.usage : undefined;
  const reportedSearches = count(billed?.search_units);
  const reportedTokens =
    count(tokens?.input_tokens) ??
    count(billed?.input_tokens) ??
    count(usage?.prompt_tokens) ??
    count(usage?.input_tokens) ??
    count(usage?.total_tokens);
  const query = countTokens(typeof asked.query === 'string' ? asked.query : '');
  const documents = (rerankDocumentTexts(asked.documents) ?? []).map((text) => countTokens(text));
  const estimatedTokens = documents.reduce((sum, tokens) => sum + tokens + query, 0);
  return {
    inputTokens: reportedTokens ?? estimatedTokens,
    outputTokens: 0,
    cachedInputTokens: 0,
    searches: reportedSearches ?? rerankSearchUnits(documents, query),
    source:
      reportedTokens !== undefined || reportedSearches !== undefined ? 'reported' : 'estimated',
  };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
