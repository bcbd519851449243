import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';

// Gemini's embedContent and batchEmbedContents in the gateway's canonical embeddings
// format (OpenAI's: `input` and `dimensions`), and the answer back as Gemini's
// ContentEmbedding objects. Only text is embedded; `taskType` and `title` have no OpenAI
// counterpart: they ride in the gateway's `provider_extras`, which Gemini and Vertex
// backends apply and the others leave unapplied.

/** Google's own limit on a batchEmbedContents call; clients split longer lists. */
export const MAX_BATCH_EMBED_REQUESTS = 100;

function invalid(field: string, problem: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Invalid value at '${field}': ${problem}`,
    { param: field },
  );
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** One request's text, size, task type and title, as the canonical body needs them. */
interface EmbedAsk {
  readonly text: string;
  readonly dimensions?: number;
  readonly taskType?: string;
  readonly title?: string;
}

/** The text of a Content: its text parts, joined by newlines; any other part is a 400. */
function contentText(content: unknown, at: string): string {
  if (!isObject(content)) throw invalid(at, 'a Content object with text parts is required');
  const parts = content.parts;
  if (!Array.isArray(parts) || parts.length === 0) {
    throw invalid(`${at}.parts`, 'at least one text part is required');
  }
  const texts = parts.map((part, index) => {
    const where = `${at}.parts[${index}]`;
    if (!isObject(part)) throw invalid(where, 'a Part object is required');
    if (typeof part.text === 'string') return part.text;
    if (present(part.text)) throw invalid(`${where}.text`, 'a string is required');
    const kind = Object.keys(part).find((key) => present(part[key])) ?? 'an empty part';
    throw invalid(where, `only text parts can be embedded by this gateway, not ${kind}`);
  });
  // Google refuses an empty text, and so do OpenAI's backends: no call is spent on it.
  if (texts.every((text) => text === '')) throw invalid(`${at}.parts`, 'the text is empty');
  return texts.join('\n');
}

/** A whole number of at least 1, or undefined when not given. */
function dimensionsAt(value: unknown, field: string): number | undefined {
  if (!present(value)) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(field, 'a whole number of at least 1 is required');
  }
  return value;
}

/**
 * One EmbedContentRequest's text and size. Its settings may also come in
 * `embedContentConfig` (Google's newer spelling); the top-level field wins.
 */
function embedAsk(request: JsonObject, at: string): EmbedAsk {
  const config = isObject(request.embedContentConfig) ? request.embedContentConfig : {};
  const prefix = at === '' ? '' : `${at}.`;
  const [taskType, title] = (['taskType', 'title'] as const).map((field) => {
    const value = request[field] ?? config[field];
    if (!present(value)) return undefined;
    if (typeof value !== 'string') throw invalid(`${prefix}${field}`, 'a string is required');
    return value;
  });
  const text = contentText(request.content, `${prefix}content`);
  const dimensions = dimensionsAt(
    request.outputDimensionality ?? config.outputDimensionality,
    `${prefix}outputDimensionality`,
  );
  return {
    text,
    ...(dimensions === undefined ? {} : { dimensions }),
    ...(taskType === undefined ? {} : { taskType }),
    ...(title === undefined ? {} : { title }),
  };
}

function requireBody(body: unknown): JsonObject {
  if (!isObject(body)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'The request body must be a JSON object',
    );
  }
  return body;
}

function canonical(
  model: string,
  input: string | string[],
  asks: readonly EmbedAsk[],
  dimensions?: number,
): JsonObject {
  const body: JsonObject = { model, input };
  if (dimensions !== undefined) body.dimensions = dimensions;
  const extras: JsonObject = {};
  const taskType = perInput(asks.map((ask) => ask.taskType));
  if (taskType !== undefined) extras.task_type = taskType;
  const title = perInput(asks.map((ask) => ask.title));
  if (title !== undefined) extras.title = title;
  if (Object.keys(extras).length > 0) body.provider_extras = extras;
  return body;
}

/**
 * The inputs' values as `provider_extras` has them: one string when every input has the
 * same, a list (null where an input has none) when they differ, nothing when none has one.
 */
function perInput(values: readonly (string | undefined)[]): string | (string | null)[] | undefined {
  const first = values[0];
  if (values.every((value) => value === first)) return first;
  return values.map((value) => value ?? null);
}

/** `models/{model}:embedContent`'s body as a canonical embeddings request of one input. */
export function translateGeminiEmbedRequest(body: unknown, model: string): JsonObject {
  const ask = embedAsk(requireBody(body), '');
  return canonical(model, ask.text, [ask], ask.dimensions);
}

/** The model a batch's request names, with or without Google's `models/` prefix. */
function requestModel(value: unknown, at: string): string {
  if (typeof value !== 'string' || value === '') {
    throw invalid(`${at}.model`, 'the model is required, as models/{model}');
  }
  return value.startsWith('models/') ? value.slice('models/'.length) : value;
}

/**
 * `models/{model}:batchEmbedContents`'s body as one canonical embeddings request of every
 * input, in order. Each request names the path's model (as Google requires), and all ask
 * for one size: the canonical request has a single `dimensions`.
 */
export function translateGeminiBatchEmbedRequest(body: unknown, model: string): JsonObject {
  const requests = requireBody(body).requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw invalid('requests', 'at least one EmbedContentRequest is required');
  }
  if (requests.length > MAX_BATCH_EMBED_REQUESTS) {
    throw invalid(
      'requests',
      `at most ${MAX_BATCH_EMBED_REQUESTS} requests can be in one batch, not ${requests.length}`,
    );
  }
  const asks = requests.map((request, index) => {
    const at = `requests[${index}]`;
    if (!isObject(request)) throw invalid(at, 'an EmbedContentRequest object is required');
    const named = requestModel(request.model, at);
    if (named !== model) {
      throw invalid(
        `${at}.model`,
        `models/${named} does not match the model of the URL, models/${model}`,
      );
    }
    return embedAsk(request, at);
  });
  const dimensions = asks[0]?.dimensions;
  asks.forEach((ask, index) => {
    if (ask.dimensions !== dimensions) {
      throw invalid(
        `requests[${index}].outputDimensionality`,
        'every request of a batch must ask for the same outputDimensionality',
      );
    }
  });
  return canonical(
    model,
    asks.map((ask) => ask.text),
    asks,
    dimensions,
  );
}

function badAnswer(problem: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    `The backend's embeddings answer ${problem}`,
  );
}

/** The vectors of an OpenAI embeddings list in input order; `count` of them, or a 502. */
function vectors(answer: unknown, count: number, dimensions: number | undefined): number[][] {
  const data = isObject(answer) && Array.isArray(answer.data) ? answer.data : undefined;
  if (!data || data.length !== count) {
    throw badAnswer(`holds ${data?.length ?? 'no'} vectors for ${count} inputs`);
  }
  const width = new Base64Width(dimensions);
  const ordered: number[][] = new Array<number[]>(count);
  data.forEach((item, position) => {
    const index = isObject(item) && typeof item.index === 'number' ? item.index : position;
    const values = isObject(item) ? vectorOf(item.embedding, width) : undefined;
    if (
      !values ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= count ||
      ordered[index] !== undefined
    ) {
      throw badAnswer(`has no vector of numbers for input ${index}`);
    }
    ordered[index] = values;
  });
  return ordered;
}

/**
 * What a base64 vector must decode to. The Gemini edge never asks for base64 (its
 * canonical request has no `encoding_format`, so a backend answers numbers), yet some
 * OpenAI-compatible servers send it unasked; then it is OpenAI's base64, little-endian
 * float32s: other dtypes (vLLM's `embed_dtype`) come only when asked, which this path never
 * does. The byte count still has to agree: a whole number of float32s, the size the
 * client asked for (outputDimensionality), one size for the whole answer. A vector that
 * does not is refused (a 502) rather than read as float32 into wrong numbers.
 */
class Base64Width {
  private size: number | undefined;

  constructor(private readonly dimensions: number | undefined) {
    this.size = dimensions;
  }

  /** The float32s of `bytes`; a 502 naming why when they cannot be the vector. */
  decode(bytes: Buffer): number[] {
    const floats = bytes.length / FLOAT32_BYTES;
    if (!Number.isInteger(floats)) {
      throw badAnswer(`has a base64 vector of ${bytes.length} bytes, not whole float32s`);
    }
    if (this.size !== undefined && floats !== this.size) {
      const asked =
        this.dimensions === undefined
          ? "the answer's other vectors"
          : 'the asked outputDimensionality';
      throw badAnswer(
        `has a base64 vector of ${bytes.length} bytes: ${floats} float32s, where ${asked} ` +
          `make ${this.size} (a dtype other than float32?)`,
      );
    }
    this.size = floats;
    return Array.from({ length: floats }, (_, i) => bytes.readFloatLE(i * FLOAT32_BYTES));
  }
}

const FLOAT32_BYTES = 4;
/** Base64 as OpenAI sends it: whole quads of the standard alphabet, padded. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A vector as numbers, or as base64 (see Base64Width): Gemini's clients only read numbers. */
function vectorOf(embedding: unknown, width: Base64Width): number[] | undefined {
  let values: unknown[] | undefined;
  if (Array.isArray(embedding)) values = embedding;
  else if (typeof embedding === 'string') {
    // Node skips what is not base64: text that is not would decode to other numbers.
    if (embedding.length % 4 !== 0 || !BASE64.test(embedding)) return undefined;
    values = width.decode(Buffer.from(embedding, 'base64'));
  }
  const finite = (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value);
  return values && values.length > 0 && values.every(finite) ? values : undefined;
}

/** Token counts as Gemini reports them for embeddings (input only). */
function usageMetadata(usage: TokenUsage | undefined): JsonObject | undefined {
  if (!usage) return undefined;
  return { promptTokenCount: usage.inputTokens, totalTokenCount: usage.inputTokens };
}

/**
 * The answer to embedContent: `{embedding: {values}}`. `dimensions` is the size the request
 * asked for (outputDimensionality), which a base64 vector must decode to.
 */
export function toGeminiEmbedResponse(
  answer: unknown,
  usage?: TokenUsage,
  dimensions?: number,
): JsonObject {
  const [values] = vectors(answer, 1, dimensions);
  const metadata = usageMetadata(usage);
  return metadata ? { embedding: { values }, usageMetadata: metadata } : { embedding: { values } };
}

/** The answer to batchEmbedContents: `{embeddings: [{values}]}`, in the requests' order. */
export function toGeminiBatchEmbedResponse(
  answer: unknown,
  count: number,
  usage?: TokenUsage,
  dimensions?: number,
): JsonObject {
  const embeddings = vectors(answer, count, dimensions).map((values) => ({ values }));
  const metadata = usageMetadata(usage);
  return metadata ? { embeddings, usageMetadata: metadata } : { embeddings };
}
