import {
  ANTHROPIC_SERVER_TOOLS_EXTRA,
  anthropicServerToolOf,
  DataPlaneError,
  DataPlaneErrorCode,
  GEMINI_MODALITIES_EXTRA,
  GEMINI_TOOLS_EXTRA,
  GLOBAL_INFERENCE_GEO,
  isGeminiBuiltInTool,
  type JsonObject,
  MIN_THINKING_BUDGET,
  SERVED_RESPONSE_MODALITIES,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

// `provider_extras`: the gateway's own extension of the canonical request for settings
// OpenAI's shape has no place for, which some providers take as they are. The Gemini edge
// sets it (generationConfig.topK and responseModalities, safetySettings; an embedding's
// taskType and title), the Messages edge its top_k, and a `/v1` client may send it as it is.
// Adapters whose provider takes a setting apply it; the others leave it out and say so on
// their answer (settings-left-out), and an OpenAI-format backend never sees the field
// (openai-extensions), as OpenAI refuses fields it does not know.
// Titles are the one text here: the edge's prompt rules redact them with the input; the
// other settings are numbers and Google's enum names, checked to be no more than that.

const PROVIDER_EXTRAS = 'provider_extras';

/** What a chat request's extras ask, for the adapters that can honour them. */
export interface ChatExtras {
  /** Sample from the k likeliest tokens (Gemini's topK, Anthropic's top_k). */
  readonly topK?: number;
  /** Gemini's safetySettings, as the client sent them (Gemini and Vertex Gemini only). */
  readonly safetySettings?: readonly JsonObject[];
  /**
   * Gemini's built-in tools (googleSearch, codeExecution, ...), each a Tool object as the
   * client sent it: Gemini and Vertex Gemini run them; every other backend refuses them.
   */
  readonly geminiTools?: readonly JsonObject[];
  /**
   * Anthropic's server tools (web_search_*, web_fetch_*, code_execution_*), each as the
   * Messages client sent it: Anthropic backends run them (Vertex's Claude web search only);
   * every other backend refuses them.
   */
  readonly anthropicServerTools?: readonly JsonObject[];
  /**
   * A Gemini client's responseModalities (["TEXT", "IMAGE"]), as sent: Gemini and Vertex
   * Gemini take them; every other backend refuses IMAGE (it answers text only).
   */
  readonly responseModalities?: readonly string[];
  /**
   * A Gemini client's thinkingBudget under the canonical floor of 1,024 tokens, which
   * Gemini and Vertex Gemini take as it came (the canonical `thinking` holds the floor).
   */
  readonly thinkingBudget?: number;
  /**
   * A Gemini client's includeThoughts asked with no thinking of its own: Gemini and Vertex
   * Gemini are asked for the thought summaries, the model thinking as it would.
   */
  readonly includeThoughts?: boolean;
  /**
   * A Messages client's `inference_geo`, where Claude may run ("us" for US-only inference):
   * Anthropic's own API takes it; every other backend refuses any but the default, "global".
   */
  readonly inferenceGeo?: string;
  /**
   * A Messages client's context editing (`context_management`: Anthropic clears old tool
   * results or thinking as a conversation grows), as sent: Anthropic's own API applies it.
   */
  readonly contextManagement?: JsonObject;
}

/**
 * The 400 for an `inference_geo` other than "global" sent to a backend that cannot keep
 * the answer in that geography (where Bedrock, Vertex AI and the rest run is their
 * endpoint's region, not a request's field).
 */
export function inferenceGeoRefused(): DataPlaneError {
  return invalid(
    "inference_geo is taken by Anthropic's own API only; this backend runs where its endpoint's region is, so it cannot honour it",
    'inference_geo',
  );
}

/**
 * What an embeddings request's extras ask (Gemini and Vertex embedding models): each one
 * for every input, or one per input (null where an input has none).
 */
export interface EmbeddingExtras {
  /** Gemini's taskType (RETRIEVAL_QUERY, RETRIEVAL_DOCUMENT, ...). */
  readonly taskType?: PerInput;
  /** A document's title (with taskType RETRIEVAL_DOCUMENT). */
  readonly title?: PerInput;
}

export type PerInput = string | readonly (string | null)[];

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

function extrasOf(body: JsonObject): JsonObject | undefined {
  const extras = body[PROVIDER_EXTRAS];
  if (extras === undefined || extras === null) return undefined;
  if (!isJsonObject(extras)) throw invalid(`${PROVIDER_EXTRAS} must be an object`, PROVIDER_EXTRAS);
  return extras;
}

/** The chat extras of a canonical body; a malformed one is its 400. */
export function chatExtras(body: JsonObject): ChatExtras {
  const extras = extrasOf(body);
  if (!extras) return {};
  const out: {
    topK?: number;
    safetySettings?: JsonObject[];
    geminiTools?: JsonObject[];
    anthropicServerTools?: JsonObject[];
    responseModalities?: string[];
    thinkingBudget?: number;
    includeThoughts?: boolean;
    inferenceGeo?: string;
    contextManagement?: JsonObject;
  } = {};
  const topK = extras.top_k;
  if (topK !== undefined && topK !== null) {
    if (typeof topK !== 'number' || !Number.isFinite(topK) || topK < 0) {
      throw invalid(`${PROVIDER_EXTRAS}.top_k must be a number of at least 0`, 'top_k');
    }
    out.topK = topK;
  }
  const safety = extras.safety_settings;
  if (safety !== undefined && safety !== null) {
    if (!Array.isArray(safety) || !safety.every(isSafetySetting)) {
      throw invalid(
        `${PROVIDER_EXTRAS}.safety_settings must be a list of objects of enum names ` +
          '(category, threshold)',
        'safety_settings',
      );
    }
    if (safety.length > 0) out.safetySettings = safety;
  }
  const tools = geminiTools(extras[GEMINI_TOOLS_EXTRA]);
  if (tools.length > 0) out.geminiTools = tools;
  const serverTools = anthropicServerTools(extras[ANTHROPIC_SERVER_TOOLS_EXTRA]);
  if (serverTools.length > 0) out.anthropicServerTools = serverTools;
  const modalities = responseModalities(extras[GEMINI_MODALITIES_EXTRA]);
  if (modalities.length > 0) out.responseModalities = modalities;
  const budget = extras.thinking_budget;
  if (budget !== undefined && budget !== null) {
    // Only under the floor: a larger one is the canonical thinking's, which the budget
    // hold counts; sent in its stead it would let Gemini think past what was held.
    if (
      typeof budget !== 'number' ||
      !Number.isSafeInteger(budget) ||
      budget < 1 ||
      budget >= MIN_THINKING_BUDGET
    ) {
      throw invalid(
        `${PROVIDER_EXTRAS}.thinking_budget must be a whole number from 1 to ${MIN_THINKING_BUDGET - 1} (a larger budget is thinking.budget_tokens)`,
        'thinking_budget',
      );
    }
    out.thinkingBudget = budget;
  }
  const thoughts = extras.include_thoughts;
  if (thoughts !== undefined && thoughts !== null) {
    if (typeof thoughts !== 'boolean') {
      throw invalid(`${PROVIDER_EXTRAS}.include_thoughts must be a boolean`, 'include_thoughts');
    }
    if (thoughts) out.includeThoughts = true;
  }
  const geo = extras.inference_geo;
  if (geo !== undefined && geo !== null) {
    if (typeof geo !== 'string' || geo.length === 0) {
      throw invalid(`${PROVIDER_EXTRAS}.inference_geo must be a non-empty string`, 'inference_geo');
    }
    out.inferenceGeo = geo;
  }
  const contextManagement = extras.context_management;
  if (contextManagement !== undefined && contextManagement !== null) {
    if (!isJsonObject(contextManagement)) {
      throw invalid(
        `${PROVIDER_EXTRAS}.context_management must be an object`,
        'context_management',
      );
    }
    out.contextManagement = contextManagement;
  }
  return out;
}

/** Whether the extras ask for a geography other than the default (inferenceGeoRefused). */
export function asksInferenceGeo(extras: ChatExtras): boolean {
  return extras.inferenceGeo !== undefined && extras.inferenceGeo !== GLOBAL_INFERENCE_GEO;
}

/** `response_modalities`: Google's names of the served output modalities (TEXT, IMAGE). */
function responseModalities(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const valid = (modality: unknown) =>
    typeof modality === 'string' && SERVED_RESPONSE_MODALITIES.has(modality);
  if (!Array.isArray(value) || !value.every(valid)) {
    throw invalid(
      `${PROVIDER_EXTRAS}.${GEMINI_MODALITIES_EXTRA} must be a list of TEXT or IMAGE`,
      GEMINI_MODALITIES_EXTRA,
    );
  }
  return value as string[];
}

/** `anthropic_server_tools`: tool objects of a server tool's type, each named. */
function anthropicServerTools(value: unknown): JsonObject[] {
  if (value === undefined || value === null) return [];
  const valid = (tool: unknown) =>
    isJsonObject(tool) &&
    anthropicServerToolOf(tool.type) !== undefined &&
    typeof tool.name === 'string';
  if (!Array.isArray(value) || !value.every(valid)) {
    throw invalid(
      `${PROVIDER_EXTRAS}.${ANTHROPIC_SERVER_TOOLS_EXTRA} must be a list of Anthropic server ` +
        'tools (web_search_*, web_fetch_* or code_execution_*), each with a name',
      ANTHROPIC_SERVER_TOOLS_EXTRA,
    );
  }
  return value as JsonObject[];
}

/**
 * `gemini_tools`: Tool objects of one built-in tool each ({"googleSearch": {}}), its
 * configuration an object that goes to Gemini as it came (Gemini checks it).
 */
function geminiTools(value: unknown): JsonObject[] {
  if (value === undefined || value === null) return [];
  const valid = (tool: unknown) => {
    if (!isJsonObject(tool)) return false;
    const keys = Object.keys(tool);
    return keys.length === 1 && isGeminiBuiltInTool(keys[0]) && isJsonObject(tool[keys[0]]);
  };
  if (!Array.isArray(value) || !value.every(valid)) {
    throw invalid(
      `${PROVIDER_EXTRAS}.${GEMINI_TOOLS_EXTRA} must be a list of Tool objects of one built-in ` +
        'tool each (googleSearch, googleSearchRetrieval, codeExecution or urlContext), each an object',
      GEMINI_TOOLS_EXTRA,
    );
  }
  return value as JsonObject[];
}

/** The embedding extras of a canonical body, `inputs` long where they are per input. */
export function embeddingExtras(body: JsonObject, inputs: number): EmbeddingExtras {
  const extras = extrasOf(body);
  if (!extras) return {};
  const taskType = perInput(extras.task_type, 'task_type', inputs, true);
  const title = perInput(extras.title, 'title', inputs, false);
  return {
    ...(taskType === undefined ? {} : { taskType }),
    ...(title === undefined ? {} : { title }),
  };
}

function perInput(
  value: unknown,
  field: string,
  inputs: number,
  enumOnly: boolean,
): PerInput | undefined {
  if (value === undefined || value === null) return undefined;
  const valid = (item: unknown) => typeof item === 'string' && (!enumOnly || isEnumName(item));
  if (valid(value)) return value as string;
  if (
    Array.isArray(value) &&
    value.length === inputs &&
    value.every((item) => item === null || valid(item))
  ) {
    return value as (string | null)[];
  }
  const what = enumOnly
    ? 'an enum name, or a list of one enum name'
    : 'a string, or a list of one string';
  throw invalid(`${PROVIDER_EXTRAS}.${field} must be ${what} or null per input`, field);
}

// Google's enum names (HARM_CATEGORY_HARASSMENT, BLOCK_NONE, RETRIEVAL_DOCUMENT), or their
// numbers as proto3 JSON allows. Checked so that no text rides in a setting: the prompt
// rules redact the input and titles, not settings (a digit, space or sign is refused).
const ENUM_NAME = /^[A-Za-z_]{1,64}$/;

function isEnumName(value: string): boolean {
  return ENUM_NAME.test(value);
}

/** A SafetySetting: each field an enum name or number ({category, threshold[, method]}). */
function isSafetySetting(value: unknown): boolean {
  return (
    isJsonObject(value) &&
    Object.entries(value).every(
      ([key, item]) =>
        isEnumName(key) &&
        ((typeof item === 'string' && isEnumName(item)) ||
          (typeof item === 'number' && Number.isInteger(item) && item >= 0)),
    )
  );
}

/** The value of input `index`, if it has one. */
export function valueAt(value: PerInput | undefined, index: number): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value[index] ?? undefined;
}
