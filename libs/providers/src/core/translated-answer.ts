import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import {
  DataPlaneError,
  type JsonAnswer,
  type JsonObject,
  type ProviderCall,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { servedByTarget } from './openai-wire';
import { badResponse, type UpstreamPost } from './upstream-http';
import { fetchUpstreamJson } from './upstream-json';

/**
 * A complete answer: the backend's JSON body read whole and put through `translate`
 * (which also sees the response headers); a body it cannot translate is a bad response
 * naming what was `expected`, and so is one that makes `translate` throw.
 */
export async function translatedJsonAnswer(
  call: ProviderCall,
  post: UpstreamPost,
  dispatcher: Dispatcher,
  translate: (
    body: JsonObject,
    headers: IncomingHttpHeaders,
  ) => { body: JsonObject; usage: TokenUsage } | undefined,
  expected: string,
): Promise<JsonAnswer> {
  const response = await fetchUpstreamJson(call, post, dispatcher);
  let answer: { body: JsonObject; usage: TokenUsage } | undefined;
  try {
    answer = translate(response.body, response.headers);
  } catch (error) {
    if (error instanceof DataPlaneError) throw error;
    // A shape no check foresaw (a TypeError): still the backend's bad answer, which
    // fails over, not the gateway's 500.
    throw badResponse(call.target.backendName, expected, error);
  }
  if (!answer) throw badResponse(call.target.backendName, expected);
  return { kind: 'json', status: 200, ...answer, servedBy: servedByTarget(call) };
}

/** A chat translation's completion as the answer's body. */
export function asCompletionBody(
  answer: { completion: JsonObject; usage: TokenUsage } | undefined,
): { body: JsonObject; usage: TokenUsage } | undefined {
  return answer && { body: answer.completion, usage: answer.usage };
}
