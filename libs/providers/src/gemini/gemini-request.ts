import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import {
  type ChatPart,
  type ChatPrompt,
  type ChatToolCall,
  type ChatTurn,
  documentUrlsRefused,
  toolResultObject,
  toolOutputText,
} from '../core/chat-request';
import { thinkingBudget, type EffortBudgets } from '../core/reasoning';
import { geminiResponseFormatConfig } from './gemini-response-format';
import { logprobsConfig } from './gemini-logprobs';

/**
 * Google's own budgets for OpenAI's reasoning_effort on Gemini 2.5 (its OpenAI-compatible
 * endpoint maps low, medium and high to 1K, 8K and 24K thinking tokens); minimal is low.
 */
const GEMINI_EFFORT_BUDGETS: EffortBudgets = {
  minimal: 1024,
  low: 1024,
  medium: 8192,
  high: 24576,
  // 24K is the most every 2.5 model takes (Flash's ceiling).
  xhigh: 24576,
  max: 24576,
};

type Part = JsonObject;

/**
 * Google's documented stand-in for a function call's thoughtSignature where there is no
 * real one ("transferred conversation" in ai.google.dev/gemini-api/docs/thought-signatures:
 * a history from another model, or calls Gemini did not make, bypasses the check with it).
 */
export const SKIP_SIGNATURE_VALIDATION = 'skip_thought_signature_validator';

function part(content: ChatPart, at: string): Part {
  switch (content.kind) {
    case 'text':
      return { text: content.text };
    case 'image':
    case 'document':
    case 'audio':
      return { inlineData: { mimeType: content.mediaType, data: content.base64 } };
    case 'image-url':
      // Gemini fetches only its own uploaded files (fileData), not arbitrary URLs.
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'Gemini backends take images as base64 data URLs, not links',
        { param: at },
      );
    case 'document-url':
      // parseChatRequest refuses it for every backend but Anthropic's own API.
      throw documentUrlsRefused(at);
  }
}

/**
 * The turn's parts with its held files (Gemini files, by this backend's URI: the adapter
 * checked they are this backend's) where the client put them among the others.
 */
function withHeldFiles(sent: Part[], turn: ChatTurn & { role: 'user' }): Part[] {
  const files = turn.heldFiles;
  if (!files || files.length === 0) return sent;
  // `after` counts the turn's parts, some of which (empty texts) are not sent.
  const sentBefore = (count: number) =>
    turn.parts.slice(0, count).filter((p) => p.kind !== 'text' || p.text !== '').length;
  const parts = [...sent];
  for (const file of [...files].reverse()) {
    parts.splice(sentBefore(file.after), 0, {
      fileData: {
        fileUri: file.uri,
        ...(file.mediaType === '' ? {} : { mimeType: file.mediaType }),
      },
    });
  }
  return parts;
}

// Gemini refuses a text part that is empty, so an empty text is no part at all.
function sentParts(parts: readonly ChatPart[], at: string): Part[] {
  return parts.filter((p) => p.kind !== 'text' || p.text !== '').map((p) => part(p, at));
}

function partsOf(turn: ChatTurn, index: number): { role: 'user' | 'model'; parts: Part[] } {
  const at = `messages[${index}].content`;
  switch (turn.role) {
    case 'user':
      return { role: 'user', parts: withHeldFiles(sentParts(turn.parts, at), turn) };
    case 'assistant':
      // The turn's thinking blocks are not sent: Gemini takes no thought text as input,
      // and what it takes back, a part's thoughtSignature, comes on the tool calls.
      return {
        role: 'model',
        parts: [...sentParts(turn.parts, at), ...turn.toolCalls.map(functionCallPart)],
      };
    case 'tool':
      // Gemini matches a result to its call by function name; the response is an object.
      return {
        role: 'user',
        parts: [
          {
            functionResponse: {
              name: turn.toolName,
              response: toolResultObject(toolOutputText(turn)),
            },
          },
        ],
      };
  }
}

/** A tool call as Gemini's functionCall part, with the signature Gemini gave it, if any. */
function functionCallPart(call: ChatToolCall): Part {
  return {
    functionCall: { name: call.name, args: call.arguments },
    ...(call.thoughtSignature === undefined ? {} : { thoughtSignature: call.thoughtSignature }),
  };
}

/**
 * Gemini 3 refuses (400) a model turn whose first functionCall part has no signature: it
 * signs only the first of parallel calls, and checks that one in each step. Where the
 * client had no signature to send back (it rebuilt its history, the conversation began
 * on another provider, a Messages or Responses client), that part gets the documented
 * bypass; the signatures a client did carry back stay on the parts Gemini put them on.
 * Not gated on the model: its name says little (aliases such as gemini-flash-latest,
 * tuned models), earlier models require no signature, and this value is the one Google
 * documents for exactly such unsigned calls.
 */
function signFirstFunctionCall(parts: Part[]): void {
  const first = parts.find((part) => part.functionCall !== undefined);
  if (first && first.thoughtSignature === undefined) {
    first.thoughtSignature = SKIP_SIGNATURE_VALIDATION;
  }
}

/** Where a result's call stands among the calls of the turn before: unknown ones last. */
function callPosition(calls: readonly ChatToolCall[], turn: ChatTurn & { role: 'tool' }): number {
  const at = calls.findIndex((call) => call.id === turn.toolCallId);
  return at < 0 ? calls.length : at;
}

/**
 * The turns with each run of tool results in the order of the calls they answer. OpenAI
 * pairs a result with its call by id, so a client may send results as its tools finish;
 * Gemini's functionResponse names only the function, and the responses are read in the
 * order of the calls: out of order, two calls of one function trade results. A result of
 * no call of the turn before keeps its place, after the others.
 */
function inCallOrder(turns: readonly ChatTurn[]): ChatTurn[] {
  const ordered: ChatTurn[] = [];
  let calls: readonly ChatToolCall[] = [];
  let results: (ChatTurn & { role: 'tool' })[] = [];
  const endResults = () => {
    // A stable sort: results of one position keep the order they came in.
    ordered.push(...results.sort((a, b) => callPosition(calls, a) - callPosition(calls, b)));
    results = [];
  };
  for (const turn of turns) {
    if (turn.role === 'tool') {
      results.push(turn);
      continue;
    }
    endResults();
    if (turn.role === 'assistant') calls = turn.toolCalls;
    ordered.push(turn);
  }
  endResults();
  return ordered;
}

/**
 * Gemini's `contents`: assistant is `model`, adjacent turns of one role merge. Gemini
 * refuses a request without contents, so a conversation with nothing to send is the
 * client's 400 here rather than the backend's.
 */
function contents(turns: readonly ChatTurn[]): JsonObject[] {
  const merged: { role: 'user' | 'model'; parts: Part[] }[] = [];
  // Only results move, within their run: every other turn keeps its index.
  inCallOrder(turns).forEach((turn, index) => {
    const { role, parts } = partsOf(turn, index);
    if (parts.length === 0) return;
    const last = merged.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else merged.push({ role, parts });
  });
  for (const content of merged) if (content.role === 'model') signFirstFunctionCall(content.parts);
  if (merged.length === 0) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'messages must hold at least one user, assistant or tool message with content for Gemini backends',
      { param: 'messages' },
    );
  }
  return merged;
}

function toolConfig(prompt: ChatPrompt): JsonObject | undefined {
  const choice = prompt.toolChoice;
  switch (choice?.kind) {
    case undefined:
      return undefined;
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } };
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } };
    case 'required':
      return { functionCallingConfig: { mode: 'ANY' } };
    case 'function':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
  }
}

/**
 * generationConfig.thinkingConfig for the reasoning asked for: a budget with the thought
 * summaries (they become the answer's reasoning), a budget of 0 for none (a model that
 * must think refuses it, and the client sees why), nothing for the model's default, or
 * only the summaries when a Gemini client asked for them alone. A Gemini client's budget
 * under the canonical floor is sent as it came.
 */
function thinkingConfig(prompt: ChatPrompt): JsonObject | undefined {
  const reasoning = prompt.reasoning;
  // Adaptive thinking without an effort is Gemini's dynamic thinking (-1: the model decides).
  if (reasoning?.kind === 'adaptive' && reasoning.effort === undefined) {
    return { thinkingBudget: -1, includeThoughts: true };
  }
  const budget = thinkingBudget(reasoning, GEMINI_EFFORT_BUDGETS);
  if (budget === undefined) return prompt.includeThoughts ? { includeThoughts: true } : undefined;
  if (budget === 0) return { thinkingBudget: 0 };
  // The client's own budget stands for the canonical one it was floored into.
  const exact = reasoning?.kind === 'budget' ? prompt.thinkingBudget : undefined;
  return { thinkingBudget: exact ?? budget, includeThoughts: true };
}

/** The generateContent body for an OpenAI chat request. */
export function toGeminiRequest(prompt: ChatPrompt): JsonObject {
  const body: JsonObject = { contents: contents(prompt.turns) };
  const system = prompt.system.filter((text) => text !== '');
  if (system.length > 0) body.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
  const tools: JsonObject[] = [];
  if (prompt.tools.length > 0) {
    tools.push({
      // parametersJsonSchema takes full JSON Schema; `parameters` only an OpenAPI subset.
      functionDeclarations: prompt.tools.map((tool) => ({
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parametersJsonSchema: tool.parameters,
      })),
    });
  }
  // Gemini's built-in tools (a Gemini client's googleSearch, codeExecution...), as sent.
  if (prompt.geminiTools) tools.push(...prompt.geminiTools);
  if (tools.length > 0) body.tools = tools;
  // The Gemini API refuses a calling config with no function declarations to govern
  // ("Function calling config is set without function_declarations"); without functions
  // the model calls none anyway, so a client's none or auto (a last turn or a summary
  // sent with no tools) changes nothing. A forced call without functions goes, for Gemini
  // to refuse.
  const config = toolConfig(prompt);
  const forcesCall =
    prompt.toolChoice?.kind === 'required' || prompt.toolChoice?.kind === 'function';
  if (config && (prompt.tools.length > 0 || forcesCall)) body.toolConfig = config;
  const generation: JsonObject = {};
  if (prompt.temperature !== undefined) generation.temperature = prompt.temperature;
  if (prompt.topP !== undefined) generation.topP = prompt.topP;
  // From provider_extras (a Gemini client's own settings), as they came.
  if (prompt.topK !== undefined) generation.topK = prompt.topK;
  if (prompt.choices !== undefined) generation.candidateCount = prompt.choices;
  if (prompt.maxTokens !== undefined) generation.maxOutputTokens = prompt.maxTokens;
  if (prompt.stop.length > 0) generation.stopSequences = prompt.stop;
  if (prompt.seed !== undefined) generation.seed = prompt.seed;
  // An image model's ["TEXT", "IMAGE"], as the Gemini client sent it.
  if (prompt.responseModalities) generation.responseModalities = prompt.responseModalities;
  // 0 changes nothing, and some Gemini models refuse the fields outright: only a real
  // penalty is sent (a model that refuses one answers 400, which the client sees).
  const { presencePenalty, frequencyPenalty } = prompt;
  if (presencePenalty !== undefined && presencePenalty !== 0) {
    generation.presencePenalty = presencePenalty;
  }
  if (frequencyPenalty !== undefined && frequencyPenalty !== 0) {
    generation.frequencyPenalty = frequencyPenalty;
  }
  Object.assign(generation, geminiResponseFormatConfig(prompt.responseFormat));
  Object.assign(generation, logprobsConfig(prompt.logprobs));
  const thinking = thinkingConfig(prompt);
  if (thinking) generation.thinkingConfig = thinking;
  if (Object.keys(generation).length > 0) body.generationConfig = generation;
  if (prompt.safetySettings) body.safetySettings = prompt.safetySettings;
  return body;
}
