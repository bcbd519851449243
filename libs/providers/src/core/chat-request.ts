import {
  ANTHROPIC_SERVER_TOOLS_EXTRA,
  anthropicServerToolOf,
  DataPlaneError,
  DataPlaneErrorCode,
  GEMINI_MODALITIES_EXTRA,
  isReasoningEffort,
  isServerToolBlockType,
  MAX_TOP_LOGPROBS,
  serverToolRunners,
  type AnthropicServerTool,
  type GatewayRequest,
  normalizedThinking,
  normalizedThinkingBlock,
  REASONING_EFFORTS,
  type JsonObject,
  type ReasoningEffort,
  type ThinkingBlock,
  type ThinkingDisplay,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { imageMediaType } from './image-media-type';
import { parseCacheControl, type CacheControl } from './cache-control';
import {
  asksInferenceGeo,
  chatExtras,
  inferenceGeoRefused,
  type ChatExtras,
} from './provider-extras';
import { parseResponseFormat, type ResponseFormat } from './response-format';
import { refuseUnmetAsks } from './unmet-asks';
import { idWithoutSignature, signatureInId } from './tool-call-signature-id';
import { hasToolNameCharacters, TOOL_NAME_LIMIT, toolNameTooLong } from './tool-name-limit';

// An OpenAI chat request read once into a checked shape that every translating adapter
// (Anthropic, Gemini, Bedrock, Cohere) builds its own wire format from. Bad input is a
// 400 here, before any provider is called.

export type ChatPart = (
  | {
      readonly kind: 'text';
      readonly text: string;
      /** An answer's sources for this text (Anthropic's `citations`), sent back to Anthropic. */
      readonly citations?: readonly JsonObject[];
    }

  /** An inline image (a `data:` URL), already split into media type and base64. */
  | { readonly kind: 'image'; readonly mediaType: string; readonly base64: string }
  /** An image the provider must fetch itself. */
  | { readonly kind: 'image-url'; readonly url: string }
  /**
   * A PDF sent inline (a `file` part's `file_data`), with the name the client gave it; or
   * a Messages client's plain-text document that asks to be cited (`text/plain`, from a
   * text part's `document`, the gateway's extension).
   */
  | {
      readonly kind: 'document';
      readonly mediaType: string;
      readonly base64: string;
      readonly filename?: string;
      /** Whether the answer is to cite it (Anthropic's `citations: {enabled: true}`). */
      readonly cited?: boolean;
    }
  /**
   * A PDF by URL (a Messages client's `{type: 'url'}` document source, carried as the
   * gateway's `file.file_url`), which the provider fetches: Anthropic's own API only. The
   * gateway never fetches it (SSRF); other backends refuse it (`documentUrlsRefused`).
   */
  | {
      readonly kind: 'document-url';
      readonly url: string;
      readonly filename?: string;
      readonly cited?: boolean;
    }
  /**
   * Audio sent inline (an `input_audio` part: wav or mp3), as its media type and base64;
   * only where the backend takes it (`ChatParseOptions.audio`), else the part is a 400.
   */
  | { readonly kind: 'audio'; readonly mediaType: string; readonly base64: string }
) & {
  /** A prompt-caching breakpoint after this part (`cache_control`), where marked. */
  readonly cache?: CacheControl;
};

/** A text part of the system prompt, with its caching breakpoint if marked. */
export interface ChatSystemText {
  readonly text: string;
  readonly cache?: CacheControl;
}

export interface ChatToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as the client sent them (JSON text) and parsed. */
  readonly argumentsJson: string;
  readonly arguments: JsonObject;
  /**
   * Gemini's opaque signature for this call, as the client carried it back
   * (`extra_content.google.thought_signature`, the field Google's own OpenAI-compatible
   * endpoint uses, else in the id: see tool-call-signature-id). Gemini 3 refuses its own
   * function calls in the history without it.
   */
  readonly thoughtSignature?: string;
  /** A caching breakpoint after this call (`cache_control`), where marked. */
  readonly cache?: CacheControl;
}

/**
 * A file a backend already holds (a Gemini file the gateway uploaded), by that backend's
 * own URI; `heldBy` names the one backend that may be sent it.
 */
export interface HeldFilePart {
  readonly uri: string;
  readonly mediaType: string;
  readonly heldBy: { readonly route?: string; readonly backend: string };
  /** Where it stands in the turn: after this many of its `parts`. */
  readonly after: number;
}

/**
 * A server tool's call or result in an assistant turn (Anthropic's server_tool_use,
 * web_search_tool_result, ...), as Anthropic wrote it: its results hold encrypted content.
 * A thinking block among them stands in its place too (a well-formed ThinkingBlock):
 * Anthropic checks that a turn's thinking comes back where it was produced.
 */
export interface ServerToolBlockPart {
  readonly block: JsonObject;
  /** Where it stands in the turn: after this many of its `parts`. */
  readonly after: number;
}

export type ChatTurn =
  | {
      readonly role: 'user';
      readonly parts: readonly ChatPart[];
      /**
       * Files a backend holds, read only for a backend that reads them (`heldFiles`); kept
       * apart from `parts` so no other backend's translation can meet one.
       */
      readonly heldFiles?: readonly HeldFilePart[];
    }
  | {
      readonly role: 'assistant';
      readonly parts: readonly ChatPart[];
      readonly toolCalls: readonly ChatToolCall[];
      /** The turn's reasoning as the client carried it back (`thinking_blocks`), in order. */
      readonly thinking: readonly ThinkingBlock[];
      /**
       * Its server tools' calls and results (Anthropic's), read only for a backend that runs
       * them (`anthropicServerTools`); kept apart from `parts`, as held files are.
       */
      readonly serverToolBlocks?: readonly ServerToolBlockPart[];
    }
  | {
      readonly role: 'tool';
      readonly toolCallId: string;
      /** The called function's name, from the assistant turn that made the call. */
      readonly toolName: string;
      readonly content: string;
      /** The tool failed (a Messages client's `is_error`): Anthropic and Bedrock take a flag. */
      readonly isError?: boolean;
      /** A caching breakpoint on the result, where one of its parts was marked. */
      readonly cache?: CacheControl;
    };

export interface ChatTool {
  readonly name: string;
  readonly description?: string;
  /** A JSON Schema whose top level is an object. */
  readonly parameters: JsonObject;
  /** A caching breakpoint after this tool's definition, where marked. */
  readonly cache?: CacheControl;
  /**
   * A Messages client's strict tool (`strict: true` at the tool's top level, in Anthropic's
   * shape): the backend guarantees the call's input follows the schema. Read only where the
   * backend takes it (`ChatParseOptions.strictTools`). OpenAI's `function.strict`, whose
   * schema rules are not Anthropic's, is not this.
   */
  readonly strict?: boolean;
}

export type ChatToolChoice =
  | { readonly kind: 'auto' }
  | { readonly kind: 'none' }
  | { readonly kind: 'required' }
  | { readonly kind: 'function'; readonly name: string };

/**
 * The reasoning the client asked for: a token budget (`thinking`), an effort
 * (`reasoning_effort`, which each adapter maps to what its provider takes), or none.
 */
export type ChatReasoning =
  | {
      readonly kind: 'budget';
      readonly budgetTokens: number;
      /** How Claude shows the thinking, when the client said (Anthropic's `display`). */
      readonly display?: ThinkingDisplay;
    }
  | { readonly kind: 'effort'; readonly effort: ThinkingEffort }
  /** The model decides how much to think (Claude 4.6 and later), at an effort if given. */
  | {
      readonly kind: 'adaptive';
      readonly effort?: ThinkingEffort;
      readonly display?: ThinkingDisplay;
    }
  | { readonly kind: 'off' };

/** An effort that asks for some reasoning. */
export type ThinkingEffort = Exclude<ReasoningEffort, 'none'>;

/** `ChatExtras`: topK, safetySettings and Gemini's built-in tools, from the gateway's `provider_extras`. */
export interface ChatPrompt extends ChatExtras {
  /** System and developer messages, in order. */
  readonly system: readonly string[];
  /**
   * The same system prompt as its text parts, each with its caching breakpoint: for a
   * provider that caches on request (Anthropic) when any part is marked.
   */
  readonly systemTexts: readonly ChatSystemText[];
  readonly turns: readonly ChatTurn[];
  readonly tools: readonly ChatTool[];
  readonly toolChoice?: ChatToolChoice;
  readonly parallelToolCalls?: boolean;
  readonly maxTokens?: number;
  /**
   * The output admission held for a request without `maxTokens`, reasoning room included,
   * for a provider that requires a cap (Claude) to send as it is:
   * `GatewayRequest.heldOutputTokens`, absent when unknown.
   */
  readonly heldOutputTokens?: number;
  /**
   * The default admission held from (`GatewayRequest.defaultMaxOutputTokens`): the cap is
   * reckoned from it only for a request without `heldOutputTokens` (an older ingress's).
   */
  readonly defaultMaxTokens?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly stop: readonly string[];
  /** For repeatable sampling, where the provider takes one (Gemini, Cohere). */
  readonly seed?: number;
  /** OpenAI's -2 to 2; each adapter maps them to what its provider takes, or drops them. */
  readonly presencePenalty?: number;
  readonly frequencyPenalty?: number;
  /**
   * Who the end user is, for the provider's abuse detection: `safety_identifier` (OpenAI's
   * field for it), else `user`. Anthropic's `metadata.user_id`.
   */
  readonly user?: string;
  /** The client's `service_tier` in OpenAI's terms (service-tier.ts). */
  readonly serviceTier?: string;
  /** Absent when the client left it out. */
  readonly responseFormat?: ResponseFormat;
  /** Absent when the client asked for no particular reasoning (the model's default). */
  readonly reasoning?: ChatReasoning;
  /** The choices asked for (`n`) when more than one, where the backend answers several. */
  readonly choices?: number;
  /**
   * Log probabilities asked for (`logprobs`), with the top alternatives at each step
   * (`top_logprobs`, 0 for none), where the backend returns them.
   */
  readonly logprobs?: { readonly top: number };
}

const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+);base64,(.+)$/is;

/** The media types of the audio formats OpenAI's `input_audio` names. */
const INPUT_AUDIO_TYPES: Readonly<Record<string, string>> = { wav: 'audio/wav', mp3: 'audio/mp3' };

/** What a backend takes in user turns beside text, images and inline PDFs. */
interface UserMedia {
  /** PDFs by URL (`file.file_url`), which the backend fetches: Anthropic's own API. */
  readonly documentUrls?: boolean;
  /** Inline audio (`input_audio`): Gemini's inline data. */
  readonly audio?: boolean;
  /** Documents the answer cites (`file.citations`): Anthropic's own API. */
  readonly documentCitations?: boolean;
}

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/**
 * Custom (free-form input) tools, their calls and `allowed_tools` are OpenAI's own: the
 * providers translated here have no such thing, so a request that uses them is refused
 * whole, never sent with the tool dropped (the model would answer without it).
 */
function customToolsRefused(what: string, param: string): DataPlaneError {
  return invalid(
    `${what}: this backend takes function tools only; custom (free-form) tools and allowed_tools are supported on OpenAI-format backends`,
    param,
  );
}

function optionalNumber(body: JsonObject, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(`${field} must be a number`, field);
  }
  return value;
}

/**
 * A user message's parts, and its held files' parts apart (where `heldFiles` allows them:
 * a backend that reads files by URI).
 */
function parseUserParts(
  content: unknown,
  param: string,
  allowMedia: boolean,
  heldFiles: boolean,
  media: UserMedia,
): { parts: ChatPart[]; heldFiles?: HeldFilePart[] } {
  if (!heldFiles || !Array.isArray(content)) {
    return { parts: parseParts(content, param, allowMedia, undefined, media) };
  }
  const parts: ChatPart[] = [];
  const held: HeldFilePart[] = [];
  content.forEach((part: unknown, index) => {
    const file = isJsonObject(part) && part.type === 'file' ? heldFile(part.file) : undefined;
    if (file) held.push({ ...file, after: parts.length });
    else {
      const at = `${param}[${index}]`;
      parts.push(...parseParts([part], at, allowMedia, at, media));
    }
  });
  return held.length === 0 ? { parts } : { parts, heldFiles: held };
}

/** A message's parts; `allowMedia`: whether images and PDFs may be among them (user turns). */
function parseParts(
  content: unknown,
  param: string,
  allowMedia: boolean,
  /** The one part's own parameter, when `content` is a part taken out of its message. */
  partParam?: string,
  /** What else the backend takes in user turns (PDFs by URL, audio). */
  media: UserMedia = {},
  /** Each part's index in the message as sent, where some were taken out first. */
  indexes?: readonly number[],
): ChatPart[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${param} must be a string or an array`, param);
  return content.map((part: unknown, index): ChatPart => {
    const at = partParam ?? `${param}[${indexes?.[index] ?? index}]`;
    if (!isJsonObject(part)) throw invalid(`${at} must be an object`, at);
    const cache = parseCacheControl(part.cache_control, `${at}.cache_control`);
    const marked = cache ? { cache } : {};
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw invalid(`${at}.text must be a string`, at);
      const document = allowMedia ? citedTextDocument(part, `${at}.document`, media) : undefined;
      if (document) return { ...document, ...marked };
      const citations = Array.isArray(part.citations) ? (part.citations as JsonObject[]) : [];
      return {
        kind: 'text',
        text: part.text,
        ...(citations.length > 0 ? { citations } : {}),
        ...marked,
      };
    }
    // Taken out first where the backend reads them (withoutServerToolBlocks).
    if (isServerToolBlockType(part.type)) throw serverToolBlockRefused(part, at);
    if (part.type === 'image_url' && allowMedia) {
      const imageUrl = part.image_url;
      const url = isJsonObject(imageUrl) ? imageUrl.url : imageUrl;
      if (typeof url !== 'string') throw invalid(`${at}.image_url.url must be a string`, at);
      const inline = DATA_URL.exec(url);
      if (inline) {
        const mediaType = imageMediaType(inline[1].toLowerCase(), inline[2]);
        return { kind: 'image', mediaType, base64: inline[2], ...marked };
      }
      if (/^https?:\/\//i.test(url)) return { kind: 'image-url', url, ...marked };
      throw imageUrlRefused(`${at}.image_url.url`);
    }
    if (part.type === 'input_audio' && allowMedia && media.audio === true) {
      return { ...inputAudio(part.input_audio, `${at}.input_audio`), ...marked };
    }
    const document =
      part.type === 'file' && allowMedia
        ? (inlineDocument(part.file, `${at}.file`, media) ??
          pdfByUrl(part.file, `${at}.file`, media))
        : undefined;
    if (document) return { ...document, ...marked };
    throw invalid(`${at} has a content type this backend cannot take: ${String(part.type)}`, at);
  });
}

/**
 * An assistant turn's parts: text, and the images an image model made where the backend
 * takes them back (`images`); anywhere else such an image is refused by name.
 */
function assistantParts(
  content: unknown,
  param: string,
  images: boolean,
  indexes: readonly number[] | undefined,
): ChatPart[] {
  if (!images) {
    if (Array.isArray(content)) {
      const at = content.findIndex((part: unknown) => isAssistantImage(part));
      if (at !== -1) throw assistantImageRefused(`${param}[${indexes?.[at] ?? at}]`);
    }
    return parseParts(content, param, false, undefined, {}, indexes);
  }
  const parts = parseParts(content, param, true, undefined, {}, indexes);
  const other = parts.findIndex((part) => part.kind !== 'text' && part.kind !== 'image');
  if (other !== -1) {
    const at = `${param}[${indexes?.[other] ?? other}]`;
    throw invalid(`${at}: an assistant turn carries text and images (base64) only`, at);
  }
  return parts;
}

/** An image part: what an image model's answer carries back in an assistant turn. */
export function isAssistantImage(part: unknown): boolean {
  return isJsonObject(part) && part.type === 'image_url';
}

/** The 400 of an image in an assistant turn sent to a backend that takes none there. */
export function assistantImageRefused(param: string): DataPlaneError {
  return invalid(
    `${param} is an image in an assistant (model) turn, as an image model's answer is sent back: only Gemini and Vertex Gemini backends take one there; this backend takes images in user turns only`,
    param,
  );
}

/** The 400 of an image URL that is neither http(s) nor a base64 data URL. */
export function imageUrlRefused(param: string): DataPlaneError {
  return invalid(`${param} must be an http(s) or base64 data URL`, param);
}

/** An `input_audio` part's audio: base64 `data` in one of OpenAI's formats (wav, mp3). */
function inputAudio(audio: unknown, param: string): Extract<ChatPart, { kind: 'audio' }> {
  if (!isJsonObject(audio) || typeof audio.data !== 'string' || audio.data === '') {
    throw invalid(`${param}.data must be a non-empty base64 string`, `${param}.data`);
  }
  const mediaType = typeof audio.format === 'string' ? INPUT_AUDIO_TYPES[audio.format] : undefined;
  if (!mediaType) {
    throw invalid(`${param}.format must be 'wav' or 'mp3'`, `${param}.format`);
  }
  return { kind: 'audio', mediaType, base64: audio.data };
}

/**
 * A `file` part whose `file_data` is an inline PDF, the one kind of file the translating
 * adapters send on (Anthropic's document block, Gemini's inline data); any other file
 * (an uploaded file's id, another type) is left to the caller's refusal.
 */
function inlineDocument(
  file: unknown,
  param: string,
  media: UserMedia,
): Extract<ChatPart, { kind: 'document' }> | undefined {
  if (!isJsonObject(file) || typeof file.file_data !== 'string') return undefined;
  const inline = DATA_URL.exec(file.file_data);
  if (!inline || inline[1].toLowerCase() !== 'application/pdf') return undefined;
  const cited = citedDocument(file, param, media);
  return {
    kind: 'document',
    mediaType: 'application/pdf',
    base64: inline[2],
    ...documentNaming(file.filename, cited),
  };
}

/**
 * A text part marked as a document that asks to be cited (`document: {title?, citations}`,
 * the part a Messages client's plain-text document becomes): a `text/plain` document.
 */
function citedTextDocument(
  part: JsonObject,
  param: string,
  media: UserMedia,
): Extract<ChatPart, { kind: 'document' }> | undefined {
  const document = part.document;
  if (!isJsonObject(document) || !citedDocument(document, param, media)) return undefined;
  return {
    kind: 'document',
    mediaType: 'text/plain',
    base64: Buffer.from(String(part.text)).toString('base64'),
    ...documentNaming(document.title, true),
  };
}

/**
 * Whether a file part asks the answer to cite it (`citations: {enabled: true}`, a Messages
 * client's document): where the backend cites documents (Anthropic), else the 400 naming
 * the field, never an answer without the citations asked for.
 */
function citedDocument(file: JsonObject, param: string, media: UserMedia): boolean {
  const citations = file.citations;
  if (!isJsonObject(citations) || citations.enabled !== true) return false;
  if (media.documentCitations !== true) throw documentCitationsRefused(`${param}.citations`);
  return true;
}

/** The 400 of a backend that cannot cite documents: only Claude (Anthropic, Vertex AI, Bedrock) does here. */
export function documentCitationsRefused(param?: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    'this backend does not cite documents (citations); document citations are served by Anthropic backends and Claude on Vertex AI and Bedrock',
    param === undefined ? {} : { param },
  );
}

function documentNaming(name: unknown, cited: boolean): { filename?: string; cited?: true } {
  const filename = typeof name === 'string' && name ? name : undefined;
  return { ...(filename ? { filename } : {}), ...(cited ? { cited } : {}) };
}

/**
 * A `file` part's `file_url`, a PDF the backend is to fetch: where the backend does
 * (Anthropic), else the 400 saying so; the gateway never fetches a client's URL.
 */
function pdfByUrl(
  file: unknown,
  param: string,
  media: UserMedia,
): Extract<ChatPart, { kind: 'document-url' }> | undefined {
  if (!isJsonObject(file) || file.file_url === undefined || file.file_url === null) {
    return undefined;
  }
  const urlParam = `${param}.file_url`;
  if (typeof file.file_url !== 'string' || !/^https?:\/\//i.test(file.file_url)) {
    throw invalid(`${urlParam} must be an http(s) URL`, urlParam);
  }
  if (media.documentUrls !== true) throw documentUrlsRefused(urlParam);
  const cited = citedDocument(file, param, media);
  return { kind: 'document-url', url: file.file_url, ...documentNaming(file.filename, cited) };
}

/**
 * The 400 of a backend that cannot take a PDF by URL: only Anthropic's own API fetches
 * one, and the gateway does not fetch URLs for a backend.
 */
export function documentUrlsRefused(param?: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    'this backend cannot take a PDF document by URL (only Anthropic backends fetch document URLs, and the gateway does not fetch them); send the document inline as base64',
    param === undefined ? {} : { param },
  );
}

/**
 * A file part the gateway made for a file a backend holds: its URI at that backend, its
 * media type and the backend (`held_by`). Only the gateway writes `held_by`: every edge
 * resolves or refuses a client's `file_id` before a request is routed.
 */
function heldFile(file: unknown): Omit<HeldFilePart, 'after'> | undefined {
  if (!isJsonObject(file) || typeof file.file_id !== 'string') return undefined;
  const heldBy = file.held_by;
  if (!isJsonObject(heldBy) || typeof heldBy.backend !== 'string') return undefined;
  return {
    uri: file.file_id,
    mediaType: typeof file.mime_type === 'string' ? file.mime_type : '',
    heldBy: {
      backend: heldBy.backend,
      ...(typeof heldBy.route === 'string' ? { route: heldBy.route } : {}),
    },
  };
}

/**
 * A file one backend holds (a Gemini file) in a call that reached another: never sent
 * there, which would not have it and would learn its URI. No failover trigger, so the
 * router tries no further backend. The router sends a call naming a held file to its holder
 * alone (held-file-pin), whatever balancing or a cooldown say, so this is met only by a
 * call that came past that pin: a file part with a `held_by` the gateway did not write, or
 * a router without the pin (an older version, in a split deployment mid-upgrade).
 */
export function heldFileRefused(holder: string, chosen: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    `The Gemini file in this request is held by backend "${holder}", but this call was not pinned to it and the gateway chose "${chosen}"; the file is not sent elsewhere. The gateway sends a call naming a held file to its holder alone, so this call came past that rule: a file part whose held_by the gateway did not write, or a gateway router of an older version. Name the file by the id the gateway gave it on upload, and try again.`,
  );
}

/**
 * The 400 of a backend that takes no audio. parseChatRequest refuses `input_audio` parts
 * before a backend without `audio` sees one; this names the backend should one get past.
 */
export function audioRefused(backend: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `${backend} backends do not take audio (input_audio parts)`,
  );
}

/** The 400 of a backend that takes no documents: the client's own error to fix. */
export function documentsRefused(backend: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `${backend} backends do not take PDF documents (file parts)`,
  );
}

function textOf(parts: readonly ChatPart[]): string {
  return parts.map((part) => (part.kind === 'text' ? part.text : '')).join('');
}

/**
 * An earlier call's arguments: JSON text of an object, as OpenAI sends them, or the object
 * itself (vLLM and Ollama take them so; read as `{}`, the model would see a call made
 * without them); none is `{}`. Anything else is the client's 400.
 */
function callArguments(
  value: unknown,
  param: string,
): { readonly argumentsJson: string; readonly parsed: JsonObject } {
  if (value === undefined || value === null) return { argumentsJson: '{}', parsed: {} };
  if (isJsonObject(value)) return { argumentsJson: JSON.stringify(value), parsed: value };
  const refused = () => invalid(`${param} must be a JSON object`, param);
  if (typeof value !== 'string') throw refused();
  let parsed: unknown;
  try {
    parsed = JSON.parse(value === '' ? '{}' : value);
  } catch {
    throw refused();
  }
  if (!isJsonObject(parsed)) throw refused();
  return { argumentsJson: value, parsed };
}

function parseToolCalls(value: unknown, param: string): ChatToolCall[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${param} must be an array`, param);
  return value.map((call: unknown, index): ChatToolCall => {
    const at = `${param}[${index}]`;
    if (isJsonObject(call) && call.type === 'custom') {
      throw customToolsRefused(`${at} calls a custom tool`, at);
    }
    const fn = isJsonObject(call) ? call.function : undefined;
    if (!isJsonObject(call) || typeof call.id !== 'string' || !isJsonObject(fn)) {
      throw invalid(`${at} must have an id and a function`, at);
    }
    if (typeof fn.name !== 'string') throw invalid(`${at}.function.name must be a string`, at);
    const { argumentsJson, parsed } = callArguments(fn.arguments, `${at}.function.arguments`);
    const thoughtSignature =
      parseThoughtSignature(call.extra_content, `${at}.extra_content`) ?? signatureInId(call.id);
    const cache = parseCacheControl(call.cache_control, `${at}.cache_control`);
    return {
      // Short for every backend: the signature, if the id carried one, is read above.
      id: idWithoutSignature(call.id),
      name: fn.name,
      argumentsJson,
      arguments: parsed,
      ...(thoughtSignature === undefined ? {} : { thoughtSignature }),
      ...(cache ? { cache } : {}),
    };
  });
}

/**
 * A tool call's `extra_content.google.thought_signature`; absent (or null) at any level
 * is none, and so is an empty one, which signs nothing.
 */
function parseThoughtSignature(extra: unknown, param: string): string | undefined {
  if (extra === undefined || extra === null) return undefined;
  if (!isJsonObject(extra)) throw invalid(`${param} must be an object`, param);
  const google = extra.google;
  if (google === undefined || google === null) return undefined;
  if (!isJsonObject(google)) throw invalid(`${param}.google must be an object`, `${param}.google`);
  const signature = google.thought_signature;
  if (signature === undefined || signature === null) return undefined;
  if (typeof signature !== 'string') {
    throw invalid(
      `${param}.google.thought_signature must be a string`,
      `${param}.google.thought_signature`,
    );
  }
  return signature === '' ? undefined : signature;
}

function parseTools(value: unknown, nameLimit: number, strictTools: boolean): ChatTool[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('tools must be an array', 'tools');
  return value.map((tool: unknown, index): ChatTool => {
    const at = `tools[${index}]`;
    if (isJsonObject(tool) && tool.type === 'custom') {
      throw customToolsRefused(`${at} is a custom tool`, at);
    }
    if (!isJsonObject(tool) || tool.type !== 'function' || !isJsonObject(tool.function)) {
      throw invalid(`${at} must be {"type": "function", "function": {...}}`, at);
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || !hasToolNameCharacters(fn.name)) {
      throw invalid(
        `${at}.function.name must be 1-${nameLimit} letters, digits, underscores or dashes`,
        `${at}.function.name`,
      );
    }
    if (fn.name.length > nameLimit) {
      throw toolNameTooLong(fn.name, nameLimit, `${at}.function.name`);
    }
    if (fn.description !== undefined && typeof fn.description !== 'string') {
      throw invalid(`${at}.function.description must be a string`, `${at}.function.description`);
    }
    const parameters = fn.parameters ?? { type: 'object', properties: {} };
    if (
      !isJsonObject(parameters) ||
      (parameters.type !== undefined && parameters.type !== 'object')
    ) {
      throw invalid(
        `${at}.function.parameters must be a JSON Schema object with "type": "object"`,
        `${at}.function.parameters`,
      );
    }
    if (parameters.properties !== undefined && !isJsonObject(parameters.properties)) {
      throw invalid(
        `${at}.function.parameters.properties must be an object`,
        `${at}.function.parameters`,
      );
    }
    const cache = parseCacheControl(tool.cache_control, `${at}.cache_control`);
    if (tool.strict !== undefined && tool.strict !== null && typeof tool.strict !== 'boolean') {
      throw invalid(`${at}.strict must be a boolean`, `${at}.strict`);
    }
    return {
      name: fn.name,
      description: fn.description,
      parameters: { type: 'object', ...parameters },
      ...(cache ? { cache } : {}),
      ...(strictTools && tool.strict === true ? { strict: true } : {}),
    };
  });
}

/**
 * The body's `tool_choice`; a function it names must be one of `tools` or a server tool the
 * body asks for (looked up only then: most calls name none).
 */
function parseToolChoice(body: JsonObject, tools: readonly ChatTool[]): ChatToolChoice | undefined {
  const value = body.tool_choice;
  if (value === undefined || value === null) return undefined;
  if (value === 'required' && tools.length === 0 && serverToolsNamed(body).length === 0) {
    throw forcedCallWithoutTools();
  }
  if (value === 'auto' || value === 'none' || value === 'required') return { kind: value };
  if (isJsonObject(value) && (value.type === 'allowed_tools' || value.type === 'custom')) {
    throw customToolsRefused(`tool_choice is ${String(value.type)}`, 'tool_choice');
  }
  const fn = isJsonObject(value) ? value.function : undefined;
  if (
    isJsonObject(value) &&
    value.type === 'function' &&
    isJsonObject(fn) &&
    typeof fn.name === 'string'
  ) {
    const named = (tool: ChatTool) => tool.name === fn.name;
    if (!tools.some(named) && !serverToolsNamed(body).some(named)) {
      throw invalid(`tool_choice names a function that is not in tools: ${fn.name}`, 'tool_choice');
    }
    return { kind: 'function', name: fn.name };
  }
  throw invalid('tool_choice must be "auto", "none", "required" or a function', 'tool_choice');
}

/**
 * A call forced with nothing to call: OpenAI refuses `tool_choice` "required" without
 * tools (a 400 naming tool_choice), where a backend that offers no tool then would answer
 * in text (Bedrock, Cohere) or refuse in its own words after a call (Claude, Gemini).
 */
function forcedCallWithoutTools(): DataPlaneError {
  return invalid(
    'tool_choice "required" is only allowed when tools are specified: there is no tool to call',
    'tool_choice',
  );
}

/** The end user's id (`ChatPrompt.user`): `safety_identifier`, else `user`. */
function endUserId(body: JsonObject): string | undefined {
  if (typeof body.safety_identifier === 'string') return body.safety_identifier;
  return typeof body.user === 'string' ? body.user : undefined;
}

/**
 * The log probabilities asked for, where the backend returns them; asked of one that
 * does not, they would be missing from the answer without a word: a 400 says so instead.
 */
function parseLogprobs(body: JsonObject, returned: boolean): ChatPrompt['logprobs'] {
  const top = body.top_logprobs ?? 0;
  if (body.logprobs !== true && top === 0) return undefined;
  if (!returned) {
    throw invalid('this backend does not return log probabilities (logprobs)', 'logprobs');
  }
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 0 || top > MAX_TOP_LOGPROBS) {
    throw invalid(
      `top_logprobs must be a whole number from 0 to ${MAX_TOP_LOGPROBS}`,
      'top_logprobs',
    );
  }
  return { top };
}

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw invalid('stop must be a string or an array of strings', 'stop');
}

export interface ChatParseOptions {
  /** Whether the backend takes image parts (and inline PDF file parts) in user turns. */
  readonly images?: boolean;
  /** Whether the backend answers several choices (`n`) for this request. */
  readonly choices?: boolean;
  /** Whether the backend returns log probabilities (Gemini's logprobsResult). */
  readonly logprobs?: boolean;
  /** Whether the backend runs Gemini's built-in tools (Gemini and Vertex Gemini only). */
  readonly geminiTools?: boolean;
  /** Whether the backend answers images (responseModalities IMAGE: Gemini and Vertex Gemini). */
  readonly imageOutput?: boolean;
  /**
   * Whether the backend takes images in assistant turns (an image model's answer sent back
   * in a later turn): Gemini and Vertex Gemini. Others take images in user turns only.
   */
  readonly assistantImages?: boolean;
  /** Whether the backend reads files it holds by URI (Gemini's fileData). */
  readonly heldFiles?: boolean;
  /** Whether the backend fetches PDFs by URL (`file.file_url`): Anthropic's own API only. */
  readonly documentUrls?: boolean;
  /** Whether the backend takes `input_audio` parts (wav, mp3) in user turns: Gemini. */
  readonly audio?: boolean;
  /** Whether the backend cites documents that ask for it (`file.citations`): Anthropic's API. */
  readonly documentCitations?: boolean;
  /**
   * The longest tool name the backend takes: 64 (OpenAI's rule) unless it says more
   * (Anthropic's 128). A longer name is parseTools' named 400; the adapters of 64-limit
   * backends (Gemini, Vertex, Bedrock, Cohere) send a longer one as its alias
   * (tool-name-aliases), so only an Anthropic backend meets it, past 128.
   */
  readonly toolNameLimit?: number;
  /**
   * The Anthropic server tools the backend runs (Anthropic's own API: all; Claude on Vertex
   * AI: web search): it takes their definitions and their blocks in assistant turns.
   */
  readonly anthropicServerTools?: ReadonlySet<AnthropicServerTool>;
  /** The backend keeps Claude in the geography a Messages client names (Anthropic's API). */
  readonly inferenceGeo?: boolean;
  /** The backend takes a Messages client's strict tools (`ChatTool.strict`: Anthropic's API). */
  readonly strictTools?: boolean;
  /** The request's held default output (`ChatPrompt.defaultMaxTokens`), when it carries one. */
  readonly defaultMaxTokens?: number;
  /** The output held for the request (`ChatPrompt.heldOutputTokens`), when it carries one. */
  readonly heldOutputTokens?: number;
}

/**
 * The output admission held for `request`, as parse options: what a provider that requires
 * a cap (Claude) is asked for when the client set none.
 */
export function heldOutputOptions(
  request: GatewayRequest,
): Pick<ChatParseOptions, 'defaultMaxTokens' | 'heldOutputTokens'> {
  return {
    defaultMaxTokens: request.defaultMaxOutputTokens,
    heldOutputTokens: request.heldOutputTokens,
  };
}

/** Reads and checks an OpenAI chat body; throws a 400 DataPlaneError naming the field. */
export function parseChatRequest(body: JsonObject, options: ChatParseOptions = {}): ChatPrompt {
  const allowImages = options.images ?? true;
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw invalid('messages must be a non-empty array', 'messages');
  }
  const n = optionalNumber(body, 'n');
  if (n !== undefined && n !== 1) {
    if (options.choices !== true) throw invalid('this backend answers with one choice (n=1)', 'n');
    if (!Number.isInteger(n) || n < 1) throw invalid('n must be a whole number of at least 1', 'n');
  }
  const logprobs = parseLogprobs(body, options.logprobs === true);
  refuseUnmetAsks(body);

  const tools = parseTools(
    body.tools,
    options.toolNameLimit ?? TOOL_NAME_LIMIT,
    options.strictTools === true,
  );
  const system: string[] = [];
  const systemTexts: ChatSystemText[] = [];
  const turns: ChatTurn[] = [];
  const toolNames = new Map<string, string>();
  body.messages.forEach((message: unknown, index) => {
    const at = `messages[${index}]`;
    if (!isJsonObject(message)) throw invalid(`${at} must be an object`, at);
    switch (message.role) {
      case 'system':
      case 'developer': {
        const parts = parseParts(message.content, `${at}.content`, false);
        system.push(textOf(parts));
        for (const part of parts) {
          if (part.kind === 'text') systemTexts.push({ text: part.text, cache: part.cache });
        }
        return;
      }
      case 'user':
        turns.push({
          role: 'user',
          ...parseUserParts(
            message.content,
            `${at}.content`,
            allowImages,
            options.heldFiles === true,
            {
              documentUrls: options.documentUrls === true,
              audio: options.audio === true,
              documentCitations: options.documentCitations === true,
            },
          ),
        });
        return;
      case 'assistant': {
        const toolCalls = parseToolCalls(message.tool_calls, `${at}.tool_calls`);
        for (const call of toolCalls) toolNames.set(call.id, call.name);
        const { content, serverToolBlocks, indexes } =
          (options.anthropicServerTools?.size ?? 0) > 0
            ? withoutServerToolBlocks(message.content, `${at}.content`)
            : { content: message.content, serverToolBlocks: [], indexes: undefined };
        const parts = assistantParts(
          content,
          `${at}.content`,
          options.assistantImages === true,
          indexes,
        );
        const thinking = parseThinkingBlocks(message.thinking_blocks, `${at}.thinking_blocks`);
        turns.push({
          role: 'assistant',
          parts,
          toolCalls,
          thinking,
          ...(serverToolBlocks.length > 0 ? { serverToolBlocks } : {}),
        });
        return;
      }
      case 'tool': {
        if (typeof message.tool_call_id !== 'string') {
          throw invalid(`${at}.tool_call_id must be a string`, `${at}.tool_call_id`);
        }
        const toolCallId = idWithoutSignature(message.tool_call_id);
        const toolName =
          toolNames.get(toolCallId) ??
          (typeof message.name === 'string' ? message.name : undefined);
        if (!toolName) {
          throw invalid(
            `${at}.tool_call_id does not match a tool call of an earlier assistant message`,
            `${at}.tool_call_id`,
          );
        }
        const parts = parseParts(message.content, `${at}.content`, false);
        const cache = parts.findLast((part) => part.cache)?.cache;
        turns.push({
          role: 'tool',
          toolCallId,
          toolName,
          content: textOf(parts),
          ...(message.is_error === true ? { isError: true } : {}),
          ...(cache ? { cache } : {}),
        });
        return;
      }
      default:
        throw invalid(
          `${at}.role must be system, developer, user, assistant or tool`,
          `${at}.role`,
        );
    }
  });

  const maxTokens =
    optionalNumber(body, 'max_completion_tokens') ?? optionalNumber(body, 'max_tokens');
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw invalid('max_tokens must be a positive integer', 'max_tokens');
  }
  return {
    system,
    systemTexts,
    turns,
    tools,
    toolChoice: parseToolChoice(body, tools),
    parallelToolCalls:
      typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
    maxTokens,
    ...(options.defaultMaxTokens === undefined
      ? {}
      : { defaultMaxTokens: options.defaultMaxTokens }),
    ...(options.heldOutputTokens === undefined
      ? {}
      : { heldOutputTokens: options.heldOutputTokens }),
    temperature: optionalNumber(body, 'temperature'),
    topP: optionalNumber(body, 'top_p'),
    stop: parseStop(body.stop),
    seed: parseSeed(body),
    presencePenalty: parsePenalty(body, 'presence_penalty'),
    frequencyPenalty: parsePenalty(body, 'frequency_penalty'),
    user: endUserId(body),
    ...(typeof body.service_tier === 'string' ? { serviceTier: body.service_tier } : {}),
    responseFormat: parseResponseFormat(body.response_format),
    reasoning: parseReasoning(body),
    ...(n !== undefined && n > 1 ? { choices: n } : {}),
    ...(logprobs ? { logprobs } : {}),
    ...extrasFor(body, options),
  };
}

/**
 * The provider extras the backend can honour. Gemini's built-in tools are refused
 * elsewhere, never dropped: the model would answer without the search or the code run
 * the client asked for. (The router sends such a request to Gemini backends only; this
 * holds for any other way a request reaches an adapter.)
 */
function extrasFor(body: JsonObject, options: ChatParseOptions): ChatExtras {
  const extras = chatExtras(body);
  const tool = extras.geminiTools?.[0];
  if (tool && options.geminiTools !== true) throw geminiToolRefused(Object.keys(tool)[0]);
  // Image output likewise: the answer would be text alone, the image asked for left out.
  if (extras.responseModalities?.includes('IMAGE') && options.imageOutput !== true) {
    throw imageOutputRefused();
  }
  for (const serverTool of extras.anthropicServerTools ?? []) {
    const name = anthropicServerToolOf(serverTool.type);
    if (name && !options.anthropicServerTools?.has(name)) throw serverToolRefused(name);
  }
  // Refused, never dropped: the answer would run wherever, against the client's residency.
  if (asksInferenceGeo(extras) && options.inferenceGeo !== true) throw inferenceGeoRefused();
  return extras;
}

/**
 * The Anthropic server tools a body asks for, by name, for a tool_choice that forces one
 * (checked against the backend in extrasFor); none without them.
 */
function serverToolsNamed(body: JsonObject): ChatTool[] {
  const extras = isJsonObject(body.provider_extras) ? body.provider_extras : {};
  const tools = extras[ANTHROPIC_SERVER_TOOLS_EXTRA];
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) =>
    isJsonObject(tool) && typeof tool.name === 'string'
      ? [{ name: tool.name, parameters: {} }]
      : [],
  );
}

/** The 400 for an Anthropic server tool sent to a backend that cannot run it. */
export function serverToolRefused(tool: AnthropicServerTool): DataPlaneError {
  return invalid(
    `the ${tool} server tool is run by ${serverToolRunners(tool)} only; this backend cannot run it`,
    'tools',
  );
}

/**
 * An assistant turn's content with its server tools' blocks, and the thinking blocks among
 * them (the Messages edge writes a turn's thinking there beside a server tool's), taken
 * out, each placed.
 */
function withoutServerToolBlocks(
  content: unknown,
  at: string,
): {
  content: unknown;
  serverToolBlocks: ServerToolBlockPart[];
  /** Where each part left stood in `content`, so an error names the part as sent. */
  indexes: number[] | undefined;
} {
  if (!Array.isArray(content)) return { content, serverToolBlocks: [], indexes: undefined };
  const rest: unknown[] = [];
  const indexes: number[] = [];
  const serverToolBlocks: ServerToolBlockPart[] = [];
  content.forEach((part: unknown, index) => {
    if (isJsonObject(part) && isServerToolBlockType(part.type)) {
      serverToolBlocks.push({ block: part, after: rest.length });
    } else if (
      isJsonObject(part) &&
      (part.type === 'thinking' || part.type === 'redacted_thinking')
    ) {
      const block = parseThinkingBlock(part, `${at}[${index}]`);
      serverToolBlocks.push({ block: { ...block }, after: rest.length });
    } else {
      rest.push(part);
      indexes.push(index);
    }
  });
  return { content: rest, serverToolBlocks, indexes };
}

/** The 400 for a server tool's block in the history of a backend that cannot read it. */
export function serverToolBlockRefused(part: JsonObject, at: string): DataPlaneError {
  return invalid(
    `${at} is a ${String(part.type)} block of an Anthropic server tool: only Anthropic ` +
      'backends (and Claude on Vertex AI, for web search) take one back; this backend cannot',
    at,
  );
}

/** The 400 for a Gemini built-in tool sent to a backend that cannot run it. */
export function geminiToolRefused(tool: string): DataPlaneError {
  return invalid(
    `the ${tool} tool is run by Gemini and Vertex Gemini backends only; this backend cannot run it`,
    'tools',
  );
}

/**
 * The 400 for image output (a Gemini client's responseModalities IMAGE) asked of a backend
 * that answers text only.
 */
export function imageOutputRefused(): DataPlaneError {
  return invalid(
    'generationConfig.responseModalities IMAGE is answered by Gemini and Vertex Gemini backends only; this backend answers text only',
    GEMINI_MODALITIES_EXTRA,
  );
}

function parseThinkingBlocks(value: unknown, param: string): ThinkingBlock[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${param} must be an array`, param);
  return value.map((item: unknown, index) => parseThinkingBlock(item, `${param}[${index}]`));
}

function parseThinkingBlock(item: unknown, param: string): ThinkingBlock {
  const block = normalizedThinkingBlock(item);
  if (!block) {
    throw invalid(
      `${param} must be {"type": "thinking", "thinking", "signature"} or {"type": "redacted_thinking", "data"}`,
      param,
    );
  }
  return block;
}

/**
 * `thinking` when given (a budget, adaptive at `reasoning_effort`, or none), else
 * `reasoning_effort` alone; absent when neither is.
 */
function parseReasoning(body: JsonObject): ChatReasoning | undefined {
  const effort = parseEffort(body.reasoning_effort) ?? parseOutputEffort(body.output_config);
  if (body.thinking !== undefined && body.thinking !== null) {
    const thinking = normalizedThinking(body.thinking);
    if (!thinking) {
      throw invalid(
        'thinking must be {"type": "enabled", "budget_tokens": <whole number of at least 1024>}, {"type": "adaptive"} or {"type": "disabled"}',
        'thinking',
      );
    }
    switch (thinking.type) {
      case 'enabled':
        return {
          kind: 'budget',
          budgetTokens: thinking.budget_tokens,
          ...(thinking.display === undefined ? {} : { display: thinking.display }),
        };
      case 'adaptive':
        if (effort === 'none') return { kind: 'off' };
        return {
          kind: 'adaptive',
          ...(effort === undefined ? {} : { effort }),
          ...(thinking.display === undefined ? {} : { display: thinking.display }),
        };
      case 'disabled':
        return { kind: 'off' };
    }
  }
  if (effort === undefined) return undefined;
  return effort === 'none' ? { kind: 'off' } : { kind: 'effort', effort };
}

/** Anthropic's `output_config.effort`, which a Messages client's request carries. */
function parseOutputEffort(outputConfig: unknown): ReasoningEffort | undefined {
  if (outputConfig === undefined || outputConfig === null) return undefined;
  if (!isJsonObject(outputConfig)) {
    throw invalid('output_config must be an object', 'output_config');
  }
  const effort = outputConfig.effort;
  if (effort === undefined || effort === null) return undefined;
  if (!isReasoningEffort(effort)) {
    throw invalid(
      `output_config.effort must be one of ${REASONING_EFFORTS.join(', ')}`,
      'output_config.effort',
    );
  }
  return effort;
}

function parseEffort(effort: unknown): ReasoningEffort | undefined {
  if (effort === undefined || effort === null) return undefined;
  if (!isReasoningEffort(effort)) {
    throw invalid(
      `reasoning_effort must be one of ${REASONING_EFFORTS.join(', ')}`,
      'reasoning_effort',
    );
  }
  return effort;
}

function parseSeed(body: JsonObject): number | undefined {
  const seed = optionalNumber(body, 'seed');
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw invalid('seed must be an integer', 'seed');
  }
  return seed;
}

function parsePenalty(body: JsonObject, field: string): number | undefined {
  const penalty = optionalNumber(body, field);
  if (penalty !== undefined && (penalty < -2 || penalty > 2)) {
    throw invalid(`${field} must be between -2 and 2`, field);
  }
  return penalty;
}

/**
 * A tool result's text for a provider with no error flag on it: a failed tool's says so,
 * so the model still learns the tool failed.
 */
export function toolOutputText(turn: {
  readonly content: string;
  readonly isError?: boolean;
}): string {
  return turn.isError === true ? failedToolText(turn.content) : turn.content;
}

/** A failed tool's output text, saying it failed: "Error: …", or "Error" when empty. */
export function failedToolText(text: string): string {
  return text ? `Error: ${text}` : 'Error';
}

/** Parses a tool's JSON result for providers that want an object; text otherwise. */
export function toolResultObject(content: string): JsonObject {
  try {
    const parsed: unknown = JSON.parse(content);
    if (isJsonObject(parsed)) return parsed;
  } catch {
    // not JSON: wrapped below
  }
  return { content };
}

/** Rejects an operation a provider does not offer, before any call. */
export function unsupportedOperation(provider: string, operation: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the ${provider} backend does not support ${operation}; route this model to a backend that does`,
  );
}
