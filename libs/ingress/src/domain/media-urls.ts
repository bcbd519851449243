import type { MediaUrlsConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

// `security.mediaUrls`: a prompt's image or file URL is fetched by the backend itself, so a
// self-hosted backend (vLLM, KServe, an internal OpenAI-compatible server) would fetch any
// address a client names from inside the operator's network. A route that refuses them
// answers 400 before any backend is called; inline media (data: URLs, base64) always pass.

/** The kind of media a refused URL was for, as the metric counts it (a bounded set). */
export type MediaUrlPart = 'image' | 'file' | 'other';

/** A URL a content part asks its backend to fetch, and where it sits. */
interface PartUrl {
  readonly url: unknown;
  /** Within the part: `image_url.url`, `file.file_url`. */
  readonly at: string;
  readonly part: MediaUrlPart;
}

/** What a refusal tells its reporter: the kind of part only, never the URL. */
export type MediaUrlRefusal = (part: MediaUrlPart) => void;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Throws a 400 naming `security.mediaUrls` at the first media URL of `body` the policy
 * refuses. `exactParams`: the body is as the client wrote it (chat completions, embeddings),
 * so the error's `param` names the part; a body translated from another API (Messages,
 * Responses, Gemini) would name a path the client never wrote, so none is given there.
 */
export function refuseMediaUrls(
  body: JsonObject,
  policy: MediaUrlsConfig,
  exactParams: boolean,
  refused?: MediaUrlRefusal,
): void {
  for (const { value, at } of eachObject(body)) {
    for (const found of urlsOf(value)) {
      if (typeof found.url !== 'string' || allowed(found.url, policy)) continue;
      refused?.(found.part);
      throw mediaUrlRefused(found, policy, exactParams ? `${at}.${found.at}` : undefined);
    }
  }
}

/**
 * Every object in a body with its path (`messages[0].content[1]`), wherever it sits: chat
 * messages, a moderation's input, the messages vLLM's embeddings take, a rerank's documents,
 * fields only a self-hosted server reads. Walked with a stack, not recursion, so JSON nested
 * deeper than the call stack is read, not a crash.
 */
function* eachObject(body: JsonObject): Generator<{ value: JsonObject; at: string }> {
  const stack: { value: unknown; at: string }[] = [{ value: body, at: '' }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, at } = next;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        if (typeof value[i] === 'object') stack.push({ value: value[i], at: `${at}[${i}]` });
      }
    } else if (isObject(value)) {
      yield { value, at };
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const child = value[keys[i]];
        if (typeof child === 'object') {
          stack.push({ value: child, at: at === '' ? keys[i] : `${at}.${keys[i]}` });
        }
      }
    }
  }
}

/**
 * The URLs a part names for its backend to fetch, in every shape a chat body may carry one:
 * chat's `image_url` (an object or, as vLLM takes it, a string), `file.file_url`, a
 * Responses message's `input_image`/`input_file` (a batch line's input is read as such),
 * an Anthropic `source` by URL, and any other `<kind>_url` part a self-hosted server
 * fetches (vLLM's `video_url`, `audio_url`).
 */
function urlsOf(part: unknown): PartUrl[] {
  if (!isObject(part) || typeof part.type !== 'string') return [];
  const { type } = part;
  const urls: PartUrl[] = [];
  const kind: MediaUrlPart = /image/.test(type)
    ? 'image'
    : /file|document/.test(type)
      ? 'file'
      : 'other';
  if (type === 'input_image') urls.push({ url: part.image_url, at: 'image_url', part: 'image' });
  if (type === 'input_file') urls.push({ url: part.file_url, at: 'file_url', part: 'file' });
  if (type === 'file' && isObject(part.file)) {
    urls.push({ url: part.file.file_url, at: 'file.file_url', part: 'file' });
  }
  if (isObject(part.source) && part.source.type === 'url') {
    urls.push({ url: part.source.url, at: 'source.url', part: kind });
  }
  if (type.endsWith('_url')) {
    const named = part[type];
    if (typeof named === 'string') urls.push({ url: named, at: type, part: kind });
    else if (isObject(named)) urls.push({ url: named.url, at: `${type}.url`, part: kind });
  }
  return urls;
}

/**
 * Inline media, or a plain http(s) URL to a listed host. The authority must be a plain
 * host name (and port) as written: a URL with credentials, a backslash or another spelling
 * of an address is read differently by other URL parsers (Python's, which vLLM uses), so
 * only one every parser reads alike may pass.
 */
function allowed(url: string, policy: MediaUrlsConfig): boolean {
  if (/^data:/i.test(url)) return true;
  if (policy.allowedHosts.length === 0) return false;
  const authority = /^https?:\/\/([a-z0-9.-]+)(?::\d{1,5})?(?:[/?#]|$)/i.exec(url);
  if (!authority) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = authority[1].toLowerCase();
  if (parsed.hostname !== host) return false;
  return policy.allowedHosts.some((entry) =>
    entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry,
  );
}

function mediaUrlRefused(
  found: PartUrl,
  policy: MediaUrlsConfig,
  param: string | undefined,
): DataPlaneError {
  const what = found.part === 'other' ? 'media' : `${found.part}`;
  const rule =
    policy.allowedHosts.length > 0
      ? `this route takes ${what} URLs only to the hosts security.mediaUrls.allowedHosts lists`
      : `this route refuses ${what} URLs (security.mediaUrls)`;
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `${rule}, as the backend would fetch the URL itself; send the ${what} inline instead (a data: URL, or base64 data).`,
    param === undefined ? undefined : { param },
  );
}
