import type { DataPlaneError, JsonObject } from '@aigw/contracts/data-plane';
import {
  absent,
  badValue,
  isObject,
  optionalBoolean,
  optionalString,
  requiredString,
  wrongType,
} from './request-params';

// A Responses request's tools as chat's: function tools, and custom (free-form input)
// tools, which Codex CLI defines for GPT-5 (`apply_patch`). Chat carries custom tools as
// `{type: "custom", custom: {...}}`, which OpenAI-format backends take; the translating
// adapters (Anthropic, Gemini, Bedrock, Cohere) refuse them with a 400 naming the tool.
// Built-in tools (web search, file search, ...) are refused here: the gateway runs none.

const TOOL_NAME_CHARACTERS = /^[a-zA-Z0-9_-]+$/;
/**
 * The longest function name taken: Anthropic's (and MCP's) 128, as Claude Code's MCP tools
 * may need. A backend that takes 64 (OpenAI, Bedrock, Gemini, Cohere) gets a short alias
 * and the answer names the client's function (the providers' tool-name-aliases).
 */
const FUNCTION_NAME_LIMIT = 128;
/** Custom tools' names go to the backend as they are: OpenAI's 64 holds. */
const CUSTOM_NAME_LIMIT = 64;

type ToolKind = 'function' | 'custom';

/** The tools defined, by kind: what a `tool_choice` may name. */
interface ToolNames {
  readonly function: ReadonlySet<string>;
  readonly custom: ReadonlySet<string>;
}

export function applyTools(chat: JsonObject, body: JsonObject): void {
  const tools = chatTools(body.tools);
  if (tools.length > 0) chat.tools = tools;
  const choice = toolChoice(body.tool_choice, toolNames(tools));
  if (choice !== undefined) chat.tool_choice = choice;
  const parallel = optionalBoolean(body.parallel_tool_calls, 'parallel_tool_calls');
  // OpenAI refuses parallel_tool_calls on a request without tools.
  if (parallel !== undefined && tools.length > 0) chat.parallel_tool_calls = parallel;
}

function toolNames(tools: readonly JsonObject[]): ToolNames {
  const names = { function: new Set<string>(), custom: new Set<string>() };
  for (const tool of tools) {
    const kind = tool.type as ToolKind;
    names[kind].add((tool[kind] as JsonObject).name as string);
  }
  return names;
}

/** Responses' flat tools as chat tools. */
function chatTools(tools: unknown): JsonObject[] {
  if (absent(tools)) return [];
  if (!Array.isArray(tools)) throw wrongType('tools', 'an array');
  return tools.map((tool: unknown, index) => {
    const at = `tools[${index}]`;
    if (!isObject(tool)) throw wrongType(at, 'an object');
    switch (tool.type) {
      case 'function':
        return { type: 'function', function: functionDefinition(tool, at) };
      case 'custom':
        return { type: 'custom', custom: customDefinition(tool, at) };
      default:
        throw badValue(
          `${at}.type`,
          `${JSON.stringify(tool.type ?? null)} tools are not supported by this gateway: it runs no built-in tools; define a 'function' or 'custom' tool instead.`,
        );
    }
  });
}

/** A tool's name and description, as both kinds carry them. */
function namedTool(tool: JsonObject, at: string): JsonObject {
  const name = requiredString(tool.name, `${at}.name`);
  const limit = tool.type === 'custom' ? CUSTOM_NAME_LIMIT : FUNCTION_NAME_LIMIT;
  if (!TOOL_NAME_CHARACTERS.test(name)) {
    throw badValue(`${at}.name`, `it must be 1-${limit} letters, digits, underscores or dashes.`);
  }
  if (name.length > limit) throw nameTooLong(name, limit, tool.type === 'custom', at);
  const definition: JsonObject = { name };
  const description = optionalString(tool.description, `${at}.description`);
  if (description !== undefined) definition.description = description;
  return definition;
}

/** The 400 of a name past its kind's limit, naming the tool, its length and the limit. */
function nameTooLong(name: string, limit: number, custom: boolean, at: string): DataPlaneError {
  const why = custom
    ? `custom tool names go to the backend as they are, and OpenAI takes at most ${limit} (a function tool's name may have up to ${FUNCTION_NAME_LIMIT}).`
    : `function names may have at most ${limit}.`;
  return badValue(`${at}.name`, `tool name '${name}' has ${name.length} characters; ${why}`);
}

function functionDefinition(tool: JsonObject, at: string): JsonObject {
  const definition = namedTool(tool, at);
  if (!absent(tool.parameters)) {
    if (!isObject(tool.parameters)) throw wrongType(`${at}.parameters`, 'a JSON Schema object');
    definition.parameters = tool.parameters;
  }
  const strict = optionalBoolean(tool.strict, `${at}.strict`);
  if (strict !== undefined) definition.strict = strict;
  return definition;
}

const GRAMMAR_SYNTAXES = new Set(['lark', 'regex']);

/**
 * A custom tool: its input is free text, or text a grammar constrains. Responses gives
 * the grammar flat (`{type: "grammar", syntax, definition}`), chat nested under `grammar`.
 */
function customDefinition(tool: JsonObject, at: string): JsonObject {
  const definition = namedTool(tool, at);
  const format = tool.format;
  if (absent(format)) return definition;
  if (!isObject(format)) throw wrongType(`${at}.format`, 'an object');
  switch (format.type) {
    case 'text':
      definition.format = { type: 'text' };
      return definition;
    case 'grammar': {
      const syntax = requiredString(format.syntax, `${at}.format.syntax`);
      if (!GRAMMAR_SYNTAXES.has(syntax)) {
        throw badValue(`${at}.format.syntax`, "it must be 'lark' or 'regex'.");
      }
      const grammar = requiredString(format.definition, `${at}.format.definition`);
      definition.format = { type: 'grammar', grammar: { definition: grammar, syntax } };
      return definition;
    }
    default:
      throw badValue(`${at}.format.type`, "it must be 'text' or 'grammar'.");
  }
}

const CHOICES =
  'it must be \'auto\', \'none\', \'required\', {"type": "function", "name"}, {"type": "custom", "name"} or {"type": "allowed_tools", "mode", "tools"}.';

function toolChoice(choice: unknown, names: ToolNames): unknown {
  if (absent(choice)) return undefined;
  const hasTools = names.function.size + names.custom.size > 0;
  if (choice === 'auto' || choice === 'none') return hasTools ? choice : undefined;
  if (choice === 'required') {
    if (!hasTools) throw badValue('tool_choice', "'required' needs at least one tool in 'tools'.");
    return choice;
  }
  if (!isObject(choice)) throw badValue('tool_choice', CHOICES);
  switch (choice.type) {
    case 'function':
    case 'custom':
      return namedChoice(choice, 'tool_choice', names);
    case 'allowed_tools':
      return allowedTools(choice, names);
    default:
      throw badValue(
        'tool_choice.type',
        `${JSON.stringify(choice.type ?? null)} is not supported by this gateway; use 'function', 'custom' or 'allowed_tools'.`,
      );
  }
}

/** `{type, name}` naming a tool of that kind in `tools`, as chat's `{type, [type]: {name}}`. */
function namedChoice(choice: JsonObject, at: string, names: ToolNames): JsonObject {
  const kind = choice.type as ToolKind;
  const name = requiredString(choice.name, `${at}.name`);
  if (!names[kind].has(name)) {
    throw badValue(
      `${at}.name`,
      `no ${kind === 'function' ? 'function' : 'custom tool'} named '${name}' in 'tools'.`,
    );
  }
  return { type: kind, [kind]: { name } };
}

const ALLOWED_MODES = new Set(['auto', 'required']);

/**
 * `allowed_tools`: the model may call only these of the tools (Codex narrows its tools so
 * and keeps the list whole, which keeps the prompt cache). Chat nests the same under
 * `allowed_tools`, each tool in chat's own shape.
 */
function allowedTools(choice: JsonObject, names: ToolNames): JsonObject {
  const mode = requiredString(choice.mode, 'tool_choice.mode');
  if (!ALLOWED_MODES.has(mode))
    throw badValue('tool_choice.mode', "it must be 'auto' or 'required'.");
  const tools = choice.tools;
  if (absent(tools)) throw badValue('tool_choice.tools', 'it must list at least one tool.');
  if (!Array.isArray(tools)) throw wrongType('tool_choice.tools', 'an array');
  if (tools.length === 0) throw badValue('tool_choice.tools', 'it must list at least one tool.');
  const allowed = tools.map((tool: unknown, index) => {
    const at = `tool_choice.tools[${index}]`;
    if (!isObject(tool)) throw wrongType(at, 'an object');
    if (tool.type !== 'function' && tool.type !== 'custom') {
      throw badValue(`${at}.type`, "it must be 'function' or 'custom'.");
    }
    return namedChoice(tool, at, names);
  });
  return { type: 'allowed_tools', allowed_tools: { mode, tools: allowed } };
}
