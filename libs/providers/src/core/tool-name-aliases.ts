import { createHash } from 'node:crypto';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { StreamedToolNames } from './streamed-tool-names';
import { hasToolNameCharacters, TOOL_NAME_LIMIT } from './tool-name-limit';

// A backend of OpenAI's format takes tool names of at most 64 characters; a Messages
// client (Claude Code's MCP tools) may use up to Anthropic's 128. Every backend takes only
// letters, digits, underscores and dashes, while a Gemini client may name a function with
// dots and colons (Gemini CLI's MCP tools keep a server's dots). Such a name goes out as
// a short alias (its start and a digest, so the same name always gets the same alias) and
// comes back as itself in the answer's tool calls, plain and streamed (streamed-tool-names:
// whole or in pieces).

const DIGEST_LENGTH = 13;

/**
 * The alias of a name too long for the backend: 64 characters, unique by its digest. Made
 * of letters, digits and underscores only, never a digit first: Cohere documents no dash
 * in a tool name and Gemini on Vertex wants a letter or underscore first, while MCP names
 * often hold dashes (mcp__claude-in-chrome__...).
 */
export function toolNameAlias(name: string): string {
  const digest = createHash('sha256').update(name).digest('hex').slice(0, DIGEST_LENGTH);
  const start = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_');
  return `${start.slice(0, TOOL_NAME_LIMIT - DIGEST_LENGTH - 1)}_${digest}`;
}

export interface AliasedToolNames {
  /** The body to send: the very same object when no name was too long. */
  readonly body: JsonObject;
  /** Alias to the client's name, when any was made. */
  readonly originals?: ReadonlyMap<string, string>;
}

/** The characters of Gemini's function names: every backend's, and dots and colons. */
const GEMINI_NAME_CHARACTERS = /^[a-zA-Z0-9_.:-]+$/;

/**
 * Whether a backend taking names of at most `limit` characters needs this one aliased: too
 * long, or a Gemini name with dots or colons. Other characters stay the client's mistake,
 * refused as the backend would refuse them.
 */
function needsAlias(name: string, limit: number): boolean {
  if (name.length > limit) return true;
  return !hasToolNameCharacters(name) && GEMINI_NAME_CHARACTERS.test(name);
}

/**
 * The body with every tool name past `limit` (TOOL_NAME_LIMIT unless the backend takes
 * more), or with Gemini's dots or colons (in tools, tool_choice and its allowed_tools, and
 * the calls and results of earlier turns) replaced by its alias.
 */
export function aliasLongToolNames(body: JsonObject, limit = TOOL_NAME_LIMIT): AliasedToolNames {
  // This runs on every call to the OpenAI family: a look without allocating first.
  if (!hasLongToolName(body, limit)) return { body };
  const long = longToolNames(body, limit);
  const aliases = new Map<string, string>();
  const originals = new Map<string, string>();
  const toolNames = toolNamesOf(body.tools);
  for (const name of long) {
    const alias = toolNameAlias(name);
    // A client's own short name equal to an alias cannot be told apart: refused instead.
    const taken = toolNames.indexOf(alias);
    if (taken >= 0) throw aliasTaken(name, alias, taken, limit);
    // Two long names of one digest: 52 bits apart, never met in practice.
    if (originals.has(alias)) throw aliasTaken(name, alias, toolNames.indexOf(name), limit);
    aliases.set(name, alias);
    originals.set(alias, name);
  }
  const rename = (name: unknown) => (typeof name === 'string' ? (aliases.get(name) ?? name) : name);
  const copy: JsonObject = { ...body };
  if (Array.isArray(body.tools))
    copy.tools = body.tools.map((tool) => withFunctionName(tool, rename));
  if (isJsonObject(body.tool_choice)) copy.tool_choice = renamedChoice(body.tool_choice, rename);
  if (Array.isArray(body.messages)) {
    copy.messages = body.messages.map((message: unknown) => {
      if (!isJsonObject(message)) return message;
      const renamed: JsonObject = { ...message };
      if (Array.isArray(message.tool_calls)) {
        renamed.tool_calls = message.tool_calls.map((call) => withFunctionName(call, rename));
      }
      if (message.role === 'tool' && typeof message.name === 'string') {
        renamed.name = rename(message.name);
      }
      return renamed;
    });
  }
  return { body: copy, originals };
}

/**
 * Puts the client's names back in a chat.completion's tool calls. A stream's chunks go
 * through StreamedToolNames instead: a streamed name may come in pieces.
 */
export function restoreToolNames(
  answer: JsonObject,
  originals: ReadonlyMap<string, string> | undefined,
): void {
  if (!originals || !Array.isArray(answer.choices)) return;
  for (const choice of answer.choices) {
    if (!isJsonObject(choice)) continue;
    const message = choice.message;
    if (!isJsonObject(message) || !Array.isArray(message.tool_calls)) continue;
    for (const call of message.tool_calls) {
      const fn = isJsonObject(call) ? call.function : undefined;
      const original =
        isJsonObject(fn) && typeof fn.name === 'string' ? originals.get(fn.name) : undefined;
      if (original !== undefined) (fn as JsonObject).name = original;
    }
  }
}

function hasLongToolName(body: JsonObject, limit: number): boolean {
  const long = (item: unknown) => {
    const fn = isJsonObject(item) ? item.function : undefined;
    return isJsonObject(fn) && typeof fn.name === 'string' && needsAlias(fn.name, limit);
  };
  if (Array.isArray(body.tools) && body.tools.some(long)) return true;
  if (long(body.tool_choice) || allowedToolsOf(body.tool_choice).some(long)) return true;
  return (
    Array.isArray(body.messages) &&
    body.messages.some(
      (message: unknown) =>
        isJsonObject(message) && Array.isArray(message.tool_calls) && message.tool_calls.some(long),
    )
  );
}

function longToolNames(body: JsonObject, limit: number): Set<string> {
  const names = [
    ...toolNamesOf(body.tools),
    ...toolNamesOf([body.tool_choice]),
    ...toolNamesOf(allowedToolsOf(body.tool_choice)),
  ];
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      if (isJsonObject(message) && Array.isArray(message.tool_calls)) {
        names.push(...toolNamesOf(message.tool_calls));
      }
    }
  }
  return new Set(names.filter((name) => needsAlias(name, limit)));
}

/** The function names of tools, calls or a tool choice (`{function: {name}}` each). */
function toolNamesOf(items: unknown): string[] {
  if (!Array.isArray(items)) return [];
  return items.flatMap((item: unknown) => {
    const fn = isJsonObject(item) ? item.function : undefined;
    return isJsonObject(fn) && typeof fn.name === 'string' ? [fn.name] : [];
  });
}

/** The tools an `allowed_tools` choice names (`{type, allowed_tools: {mode, tools}}`). */
function allowedToolsOf(choice: unknown): unknown[] {
  const allowed = isJsonObject(choice) ? choice.allowed_tools : undefined;
  return isJsonObject(allowed) && Array.isArray(allowed.tools) ? allowed.tools : [];
}

/** A tool choice with its names aliased: the named function, or each allowed tool. */
function renamedChoice(choice: JsonObject, rename: (name: unknown) => unknown): unknown {
  const allowed = choice.allowed_tools;
  if (!isJsonObject(allowed) || !Array.isArray(allowed.tools)) {
    return withFunctionName(choice, rename);
  }
  const tools = allowed.tools.map((tool) => withFunctionName(tool, rename));
  return { ...choice, allowed_tools: { ...allowed, tools } };
}

/** The 400 of a name whose alias another of the request's tools already has. */
function aliasTaken(name: string, alias: string, toolIndex: number, limit: number): DataPlaneError {
  const why = hasToolNameCharacters(name)
    ? `has ${name.length} characters, more than this backend's ${limit}`
    : 'has dots or colons, which this backend refuses';
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `tool name '${name}' ${why}, and its short alias '${alias}' is already another tool's name; rename one of the two tools`,
    { param: toolIndex >= 0 ? `tools[${toolIndex}].function.name` : 'tools' },
  );
}

function withFunctionName(item: unknown, rename: (name: unknown) => unknown): unknown {
  const fn = isJsonObject(item) ? item.function : undefined;
  if (!isJsonObject(fn)) return item;
  const name = rename(fn.name);
  return name === fn.name ? item : { ...(item as JsonObject), function: { ...fn, name } };
}

/**
 * An answer with the client's tool names back, for an adapter that sent aliases: its
 * chat.completion (`restoreToolNames`), or its stream's chunks (StreamedToolNames, which
 * holds a call back while its name may still become an alias).
 */
export function withRestoredToolNames(
  answer: GatewayAnswer,
  originals: ReadonlyMap<string, string> | undefined,
): GatewayAnswer {
  if (!originals) return answer;
  if (answer.kind === 'json') {
    restoreToolNames(answer.body, originals);
    return answer;
  }
  return { ...answer, events: restoredEvents(answer.events, originals) };
}

async function* restoredEvents(
  events: AsyncIterable<JsonObject>,
  originals: ReadonlyMap<string, string>,
): AsyncGenerator<JsonObject> {
  // The names of a translated stream come whole: only the aliases are looked for.
  const names = new StreamedToolNames({ originals });
  for await (const event of events) {
    const inPlace = names.pass(event);
    if (inPlace === undefined) yield event;
    else yield* inPlace;
  }
  yield* names.end();
}

/**
 * The call with its tool names past `limit` (64 unless the backend takes more: Anthropic's
 * 128), or with Gemini's dots or colons, aliased, for a translating adapter (Bedrock's
 * Converse, Gemini, Vertex, Cohere, Anthropic); `originals` to restore the answer with.
 */
export function withAliasedToolNames(
  call: ProviderCall,
  limit = TOOL_NAME_LIMIT,
): {
  readonly call: ProviderCall;
  readonly originals?: ReadonlyMap<string, string>;
} {
  if (call.request.operation !== 'chat') return { call };
  const { body, originals } = aliasLongToolNames(call.request.body, limit);
  if (!originals) return { call };
  return { call: { ...call, request: { ...call.request, body } }, originals };
}
