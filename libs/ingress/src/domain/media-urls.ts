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
  /** Within the object holding it: `image_url.url`, `file_url`. */
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
      const param = at === '' ? found.at : `${at}.${found.at}`;
      throw mediaUrlRefused(found, policy, exactParams ? param : undefined);
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
 * The keys whose value (a URL, or `{url}`) a backend fetches, read in any object whatever its
 * `type`: vLLM takes a part with no `type` (`{"image_url": "https://..."}`), or with a `uuid`
 * whatever `type` it names, by the key it holds. A Map, so `constructor` is no key of it.
 */
const MEDIA_KEYS: ReadonlyMap<string, MediaUrlPart> = new Map([
  ['image_url', 'image'],
  ['file_url', 'file'],
  ['audio_url', 'other'],
  ['video_url', 'other'],
]);

/**
 * The URLs an object names for its backend to fetch, in every shape a body may carry one:
 * chat's `image_url` (an object or, as vLLM takes it, a string), `file.file_url`, a
 * Responses message's `input_image`/`input_file` (a batch line's input is read as such),
 * vLLM's `video_url`/`audio_url`, an Anthropic `source` by URL, and a `<type>_url` part of
 * any other type (Mistral's `document_url`).
 */
function urlsOf(object: JsonObject): PartUrl[] {
  const type = typeof object.type === 'string' ? object.type : '';
  const kind: MediaUrlPart = /image/.test(type)
    ? 'image'
    : /file|document/.test(type)
      ? 'file'
      : 'other';
  const urls: PartUrl[] = [];
  for (const key of Object.keys(object)) {
    const part = MEDIA_KEYS.get(key) ?? (key === type && type.endsWith('_url') ? kind : undefined);
    if (part === undefined) continue;
    const named = object[key];
    if (typeof named === 'string') urls.push({ url: named, at: key, part });
    else if (isObject(named)) urls.push({ url: named.url, at: `${key}.url`, part });
  }
  if (isObject(object.source) && object.source.type === 'url') {
    urls.push({ url: object.source.url, at: 'source.url', part: kind });
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
