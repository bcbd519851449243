import {
  textWithoutBackendIdentity,
  type BackendIdentity,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { BatchUsageTally } from './batch-jsonl';
import type { LineMap } from './jsonl-lines';

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

/**
 * A succeeded result's usage added to `tally`, as a single Messages call's is counted:
 * input is the whole prompt (uncached, read from the cache, written to it), of which the
 * cache reads are the cached part and the writes (those for an hour among them) are priced
 * above input; its server tools' runs (web searches are billed per run).
 */
function addResultUsage(tally: BatchUsageTally, result: JsonObject): void {
  if (result.type !== 'succeeded' || !isObject(result.message)) return;
  const usage = result.message.usage;
  if (!isObject(usage)) return;
  const cacheRead = count(usage.cache_read_input_tokens);
  const cacheWrite = count(usage.cache_creation_input_tokens);
  const byLifetime = isObject(usage.cache_creation) ? usage.cache_creation : {};
  // Never more than all the writes, whatever the breakdown says.
  const forAnHour = Math.min(count(byLifetime.ephemeral_1h_input_tokens), cacheWrite);
  const tools = isObject(usage.server_tool_use) ? usage.server_tool_use : {};
  const searches = count(tools.web_search_requests);
  const fetches = count(tools.web_fetch_requests);
  tally.add({
    inputTokens: count(usage.input_tokens) + cacheWrite + cacheRead,
    outputTokens: count(usage.output_tokens),
    cachedInputTokens: cacheRead,
    ...(cacheWrite > 0 && { cacheWriteInputTokens: cacheWrite }),
    ...(forAnHour > 0 && { cacheWrite1hInputTokens: forAnHour }),
    ...((searches > 0 || fetches > 0) && {
      serverToolRequests: {
        ...(searches > 0 && { web_search: searches }),
        ...(fetches > 0 && { web_fetch: fetches }),
      },
    }),
  });
}

/**
 * A message batch's results line (`{custom_id, result}`) as its owner gets it: a
 * succeeded message names the client's model, an errored one's text names neither the
 * backend's model nor its host; its usage added to `tally` when one is given. A line that
 * is not JSON passes as it is (its bytes are the backend's).
 */
export function messageBatchResultLine(
  identity: BackendIdentity,
  tally?: BatchUsageTally,
): LineMap {
  return (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (!isObject(parsed) || !isObject(parsed.result)) return undefined;
    const result = parsed.result;
    if (tally) addResultUsage(tally, result);
    return JSON.stringify({ ...parsed, result: shownResult(result, identity) });
  };
}

function shownResult(result: JsonObject, identity: BackendIdentity): JsonObject {
  if (result.type === 'succeeded' && isObject(result.message)) {
    const { message } = result;
    return typeof message.model === 'string'
      ? { ...result, message: { ...message, model: identity.requestedModel } }
      : result;
  }
  // `{type: 'errored', error: {type: 'error', error: {type, message}}}`, Anthropic's error body.
  const body = isObject(result.error) ? result.error : undefined;
  const inner = body && isObject(body.error) ? body.error : undefined;
  if (!body || !inner || typeof inner.message !== 'string') return result;
  const message = textWithoutBackendIdentity(inner.message, identity);
  return { ...result, error: { ...body, error: { ...inner, message } } };
}
