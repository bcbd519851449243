import { MAX_NAME_LENGTH } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  MAX_BEST_OF,
  MAX_CHOICES,
  MIN_THINKING_BUDGET,
  normalizedThinking,
  type CallerContext,
  type GatewayRequest,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';
import { withBareThinkingAsAdaptive } from './bare-thinking';
import { refuseTooDeepBody, refuseTooDeepToolArguments } from './body-depth';
import { checkEncodingFormat } from './encoding-format';
import { checkTextShapes } from './text-shapes';

function invalid(message: string, param?: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/**
 * The counts a budget reservation is sized by (output tokens per choice, choices): when
 * sent, whole numbers, as OpenAI requires. A string or fraction would be read one way
 * here and perhaps another by a lenient backend, and the hold would not cover the call.
 */
const COUNT_FIELDS: readonly (readonly [field: string, least: number, most?: number])[] = [
  ['max_tokens', 0],
  ['max_completion_tokens', 0],
  ['n', 1, MAX_CHOICES],
  ['best_of', 1, MAX_BEST_OF],
];

function checkCounts(body: JsonObject): void {
  for (const [field, least, most] of COUNT_FIELDS) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
      throw invalid(`'${field}' must be a whole number of at least ${least}`, field);
    }
    if (most !== undefined && value > most) {
      throw invalid(`'${field}' must be at most ${most}`, field);
    }
  }
}

/**
 * The reasoning a chat request asks for. Any `reasoning_effort` string passes (OpenAI
 * backends check their own values, translating adapters the ones they map); `thinking`
 * must be one the gateway knows, as the budget hold reads its budget.
 */
function checkReasoning(body: JsonObject): void {
  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null && typeof effort !== 'string') {
    throw invalid("'reasoning_effort' must be a string", 'reasoning_effort');
  }
  const thinking = body.thinking;
  if (thinking !== undefined && thinking !== null && !normalizedThinking(thinking)) {
    // Named apart: a client whose type and budget are right would not see its fault below.
    const display = (thinking as { display?: unknown }).display;
    if (
      display !== undefined &&
      display !== null &&
      display !== 'summarized' &&
      display !== 'omitted'
    ) {
      throw invalid(`'thinking.display' must be "summarized" or "omitted"`, 'thinking.display');
    }
    throw invalid(
      `'thinking' must be {"type": "enabled"}, optionally with "budget_tokens": <whole number of at least ${MIN_THINKING_BUDGET}>, {"type": "adaptive"} or {"type": "disabled"}`,
      'thinking',
    );
  }
}

/** The fields each operation cannot do without, checked before anything is routed. */
function checkShape(operation: Operation, body: JsonObject): void {
  if (operation !== 'embeddings') checkCounts(body);
  // The wire's rule, here: the prompt rules read only these shapes.
  checkTextShapes(operation, body);
  switch (operation) {
    case 'chat': {
      const messages = body.messages;
      if (!Array.isArray(messages) || messages.length === 0) {
        throw invalid("'messages' must be a non-empty array", 'messages');
      }
      messages.forEach((message: unknown, index) => {
        const role = (message as JsonObject | null)?.role;
        if (typeof role !== 'string') {
          throw invalid(`'messages[${index}].role' must be a string`, `messages[${index}].role`);
        }
      });
      checkReasoning(body);
      break;
    }
    case 'embeddings':
      checkEncodingFormat(body);
      break; // its text fields' shapes: checkTextShapes, above
    case 'completions':
      break; // its text fields' shapes: checkTextShapes, above
    case 'transcriptions':
    case 'translations':
      break; // the form was checked as it was read (audioRequestParts)
    case 'speech':
      break; // checked by checkedSpeechBody
    case 'images':
      break; // checked by checkedImageBody
    case 'image-edits':
      break; // checked by imageEditParts
    case 'image-variations':
      break; // checked by imageVariationParts
    case 'moderations':
      break; // checked by checkedModerationBody
    case 'rerank':
      break; // checked by checkedRerankBody
    case 'realtime':
      break; // a WebSocket session: its handshake was checked before the upgrade
  }
}

export interface RequestContext {
  readonly requestId: string;
  readonly caller: CallerContext;
  readonly allowedModels: readonly string[];
  readonly forwardHeaders: Readonly<Record<string, string>>;
}

/** Checks a parsed body and turns it into the request the router carries. */
export function buildGatewayRequest(
  operation: Operation,
  body: unknown,
  context: RequestContext,
): GatewayRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('The request body must be a JSON object');
  }
  const asSent = body as JsonObject;
  // DeepSeek's, GLM's and Kimi's `thinking: {"type": "enabled"}` (no budget) as adaptive.
  const json = operation === 'chat' ? withBareThinkingAsAdaptive(asSent) : asSent;
  // First, so nothing after it (prompt rules, estimates, adapters) walks a body too deep.
  refuseTooDeepBody(json);
  if (operation === 'chat') refuseTooDeepToolArguments(json.messages);
  if (typeof json.model !== 'string' || json.model.length === 0) {
    throw invalid("'model' is required and must be a string", 'model');
  }
  if (json.model.length > MAX_NAME_LENGTH) {
    throw invalid(`'model' must be at most ${MAX_NAME_LENGTH} characters`, 'model');
  }
  checkShape(operation, json);
  // A stream the client asked for in some other spelling ("true") would be answered as JSON.
  if (json.stream !== undefined && json.stream !== null && typeof json.stream !== 'boolean') {
    throw invalid("'stream' must be a boolean", 'stream');
  }
  // Speech is always answered as a stream (its audio as it comes), whatever the body says.
  const stream = operation === 'speech' || (operation !== 'embeddings' && json.stream === true);
  const streamOptions = json.stream_options as JsonObject | undefined;
  return {
    requestId: context.requestId,
    operation,
    requestedModel: json.model,
    stream,
    clientWantsStreamUsage: stream && streamOptions?.include_usage === true,
    body: json,
    caller: context.caller,
    allowedModels: context.allowedModels,
    forwardHeaders: context.forwardHeaders,
  };
}
