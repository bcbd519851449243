import {
  DataPlaneError,
  DataPlaneErrorCode,
  MAX_BODY_DEPTH,
  nestsDeeperThan,
  textWithoutBackendIdentity,
  type BackendIdentity,
} from '@aigw/contracts/data-plane';
import type { ServerToolCounts } from '@aigw/config';
import { batchLineFileId } from './batch-file-ids';
import { backendDataSourcesField, DATA_SOURCES_REASON } from '../http/backend-data-sources';
import { responsesLineRefusal } from './batch-responses-lines';
import { canonicalBatchUrl } from './batch-urls';
import {
  forEachLine,
  isBlankLine,
  LineSplitter,
  MAX_BATCH_LINE_BYTES,
  type LineMap,
} from './jsonl-lines';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function invalidLine(line: number, message: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Line ${line} of the batch input file ${message}`,
    { param: 'file' },
  );
}

/** The lines of a JSONL text, each with its 1-based number; blank lines kept as they are. */
function mapLines(text: string, each: (line: string, number: number) => string): string {
  return text
    .split('\n')
    .map((raw, index) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      return line.trim() === '' ? raw : each(line, index + 1);
    })
    .join('\n');
}

/**
 * A batch input file as its backend must read it: every request's `body.model` must be
 * `virtualModel` (the model the upload named, whose backend will run the batch) and is
 * rewritten to the model that backend runs, as `modelNameOverride` does for single calls.
 * Any other line is refused with its number, before anything is uploaded; so is a line
 * that names a file by id (batchLineFileId), or one the route's prompt rules (`screen`)
 * refuse, and a line they mask goes up masked.
 */
export function rewriteBatchInput(
  text: string,
  virtualModel: string,
  upstreamModel: string,
  /** The route's prompt rules over each line's body (`url`, `body`): masked, or thrown. */
  screen?: Screen,
): string {
  // A UTF-8 byte order mark (Windows editors write one) is not JSON: line 1 would be refused.
  const unmarked = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return mapLines(unmarked, (line, number) =>
    rewrittenLine(line, number, virtualModel, upstreamModel, screen),
  );
}

/** The route's prompt rules over a line's body (`url`, `body`): masked, or thrown. */
type Screen = (url: unknown, body: Json) => Json;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NEWLINE = Buffer.from('\n');

/**
 * `rewriteBatchInput` over the file's bytes, one line decoded at a time: the same bytes,
 * as parts to send on, without the whole file ever becoming a string (an upload costs
 * about twice its size, not six or seven times).
 */
export function rewriteBatchInputBytes(
  data: Uint8Array,
  virtualModel: string,
  upstreamModel: string,
  screen?: Screen,
): Buffer[] {
  const parts: Buffer[] = [];
  const rewrite = batchInputLineRewriter(virtualModel, upstreamModel, screen);
  const each = (content: Buffer, ending: string) => parts.push(...rewrite(content, ending));
  // The whole upload is already held (within the body limit): no line is too long here.
  const splitter = new LineSplitter(Number.MAX_SAFE_INTEGER);
  splitter.push(data, each);
  splitter.end(each);
  return parts;
}

/**
 * `rewriteBatchInputBytes` one line at a time, the lines in order as a LineSplitter cuts
 * them (an upload read as it arrives): each line's bytes to send on, numbered from 1.
 */
export function batchInputLineRewriter(
  virtualModel: string,
  upstreamModel: string,
  screen?: Screen,
): (content: Buffer, ending: string) => Buffer[] {
  let number = 0;
  return (content, ending) => {
    number++;
    // A UTF-8 byte order mark (Windows editors write one) is not JSON: line 1 would be refused.
    if (number === 1 && content.subarray(0, 3).equals(BOM)) content = content.subarray(3);
    // Kept as it came, as the text reading keeps a blank line.
    if (isBlankLine(content)) return [content, Buffer.from(ending, 'latin1')];
    const line = rewrittenLine(
      content.toString('utf8'),
      number,
      virtualModel,
      upstreamModel,
      screen,
    );
    // A rewritten line ends with \n (its \r dropped), as lines joined by \n do.
    return ending.endsWith('\n')
      ? [Buffer.from(line, 'utf8'), NEWLINE]
      : [Buffer.from(line, 'utf8')];
  };
}

/** One request line as its backend must read it, or refused with its number. */
function rewrittenLine(
  line: string,
  number: number,
  virtualModel: string,
  upstreamModel: string,
  screen: Screen | undefined,
): string {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    throw invalidLine(number, 'is not JSON.');
  }
  if (!isObject(request) || !isObject(request.body)) {
    throw invalidLine(number, "is not a request object with a 'body'.");
  }
  // First: what reads the line after (screening, the estimate, writing it again) recurses as
  // deep as it goes. Its body is held to a single call's limit, one level down.
  if (nestsDeeperThan(request, MAX_BODY_DEPTH + 1)) {
    throw invalidLine(
      number,
      `nests arrays or objects deeper than ${MAX_BODY_DEPTH} levels in its body.`,
    );
  }
  const model = request.body.model;
  if (model !== virtualModel) {
    const named = typeof model === 'string' ? `'${model.slice(0, 128)}'` : 'no model';
    throw invalidLine(
      number,
      `names ${named} in body.model; every request of this file must name '${virtualModel}', the model the file was uploaded for.`,
    );
  }
  // Azure's `/chat/completions` read (and sent) as the `/v1/chat/completions` it is.
  const url = canonicalBatchUrl(request.url);
  const fileId = batchLineFileId(url, request.body);
  if (fileId !== undefined) {
    throw invalidLine(
      number,
      `names a file by id at ${fileId}: a batch's requests reach its backend as written, so this gateway takes files in them only as content; send the content instead, as a data URL ('file_data' for a file, 'image_url' for an image).`,
    );
  }
  // What a single Responses call is refused for (built-in tools, the backend's stored state).
  const refused = url === '/v1/responses' ? responsesLineRefusal(request.body) : undefined;
  if (refused !== undefined) throw invalidLine(number, refused);
  // And a single chat call: the backend searching data sources with its own access.
  const sources =
    url === '/v1/chat/completions' ? backendDataSourcesField(request.body) : undefined;
  if (sources !== undefined)
    throw invalidLine(number, `sets body.${sources}: ${DATA_SOURCES_REASON}`);
  let body = request.body;
  if (screen) {
    try {
      body = screen(url, body);
    } catch (error) {
      // A refusal names the rule, never the text it matched: here with the line's number.
      if (!(error instanceof DataPlaneError)) throw error;
      throw new DataPlaneError(
        error.code,
        `Line ${number} of the batch input file: ${error.message}`,
        {
          param: 'file',
        },
      );
    }
  }
  return JSON.stringify({ ...request, url, body: { ...body, model: upstreamModel } });
}

/**
 * A batch file's lines with the model names the client used: `body.model` of input lines
 * and `response.body.model` of output lines become `virtualModel`. Lines that are not JSON
 * objects are passed on untouched.
 */
export function restoreBatchModels(text: string, virtualModel: string): string {
  const identity = { sentModel: '', requestedModel: virtualModel };
  return mapLines(text, (line) => restoredParsed(parseLine(line), identity) ?? line);
}

/** A line's JSON, or undefined when it is not JSON. */
function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * A parsed line as its owner may read it, or undefined when nothing in it changes (kept
 * as it came): the client's model names (`identity.requestedModel`), and the reasons a
 * request failed (`response.body.error.message`, the line's `error.message`) without the
 * backend's model, account ids or host, as a single call's refusal reaches its client.
 */
function restoredParsed(parsed: unknown, identity: BackendIdentity): string | undefined {
  if (!isObject(parsed)) return undefined;
  const virtualModel = identity.requestedModel;
  let line: Json = parsed;
  let changed = false;
  if (isObject(line.body) && typeof line.body.model === 'string') {
    line = { ...line, body: { ...line.body, model: virtualModel } };
    changed = true;
  }
  const response = line.response;
  if (isObject(response) && isObject(response.body)) {
    let body = response.body;
    if (typeof body.model === 'string') {
      body = { ...body, model: virtualModel };
    }
    const error = shownError(body.error, identity);
    if (error !== undefined) body = { ...body, error };
    if (body !== response.body) {
      line = { ...line, response: { ...response, body } };
      changed = true;
    }
  }
  const error = shownError(line.error, identity);
  if (error !== undefined) {
    line = { ...line, error };
    changed = true;
  }
  return changed ? JSON.stringify(line) : undefined;
}

/** An error object whose message names the backend, as its owner may read it; else undefined. */
function shownError(error: unknown, identity: BackendIdentity): Json | undefined {
  if (!isObject(error) || typeof error.message !== 'string') return undefined;
  const message = textWithoutBackendIdentity(error.message, identity);
  return message === error.message ? undefined : { ...error, message };
}

/**
 * A downloaded batch file's line as the client gets it (its model names, its errors
 * without the backend's identity), read once: its usage, when `tally` is given, added as
 * it passes.
 */
export function downloadedLine(identity: BackendIdentity, tally?: BatchUsageTally): LineMap {
  return (line) => {
    const parsed = parseLine(line);
    tally?.addParsed(parsed);
    return restoredParsed(parsed, identity);
  };
}

/** What a finished batch consumed, summed over its output file's answered requests. */
export interface BatchUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  /** The part of `inputTokens` written to the prompt cache (Anthropic's; billed above input). */
  readonly cacheWriteInputTokens?: number;
  /** The part of `cacheWriteInputTokens` written for an hour. */
  readonly cacheWrite1hInputTokens?: number;
  /** Server tools' runs (Anthropic's web searches, billed per run); absent when none ran. */
  readonly serverToolRequests?: ServerToolCounts;
  /** Output lines whose answer carried usage. */
  readonly requests: number;
  /** Each of those lines' own counts: a long-prompt price tier applies to one request's prompt. */
  readonly perRequest: readonly RequestUsage[];
}

/** One answered request's usage. */
export interface RequestUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  readonly cacheWriteInputTokens?: number;
  readonly cacheWrite1hInputTokens?: number;
  readonly serverToolRequests?: ServerToolCounts;
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

/**
 * Sums `response.body.usage` over a batch output file: chat and embeddings usage
 * (`prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens`) and the
 * Responses API's (`input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens`).
 * Lines that failed (no usage) or are not JSON add nothing.
 */
export function sumBatchUsage(text: string): BatchUsage {
  const tally = new BatchUsageTally();
  mapLines(text, (line) => {
    tally.addLine(line);
    return line;
  });
  return tally.usage;
}

/**
 * `sumBatchUsage` over a file read as it arrives: one line in memory at a time (at most
 * MAX_BATCH_LINE_BYTES), so an output file of any size is billed.
 */
export async function sumBatchUsageStream(
  source: AsyncIterable<Uint8Array>,
  maxLineBytes = MAX_BATCH_LINE_BYTES,
): Promise<BatchUsage> {
  const tally = new BatchUsageTally();
  // A longer line (an embeddings answer of thousands of vectors) is billed from its end,
  // where its usage is: failing on it would leave the whole batch unbilled for good.
  await forEachLine(source, (line) => tally.addLine(line), maxLineBytes, {
    tailBytes: USAGE_TAIL_BYTES,
    each: (tail) => tally.addUsageTail(tail),
  });
  return tally.usage;
}

/** How much of the end of an output line too long to read whole is searched for its usage. */
const USAGE_TAIL_BYTES = 64 * 1024;
/**
 * An answer's `"usage": {...}` (one level of nesting: its token details). A quote inside
 * the answer's text is escaped (`\"usage\"`), so text never reads as one.
 */
const USAGE_FIELD = /"usage"\s*:\s*(\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})/g;

/** The running sum `sumBatchUsage` makes, fed one output line at a time. */
export class BatchUsageTally {
  private inputTokens = 0;
  private outputTokens = 0;
  private cachedInputTokens = 0;
  private cacheWriteInputTokens = 0;
  private cacheWrite1hInputTokens = 0;
  private webSearches = 0;
  private webFetches = 0;
  private readonly perRequest: RequestUsage[] = [];

  addLine(line: string): void {
    this.addParsed(parseLine(line));
  }

  /** The end of a line too long to read whole: the last usage written there, if any. */
  addUsageTail(tail: Buffer): void {
    let found: string | undefined;
    for (const match of tail.toString('utf8').matchAll(USAGE_FIELD)) found = match[1];
    if (found === undefined) return;
    let usage: unknown;
    try {
      usage = JSON.parse(found);
    } catch {
      return;
    }
    this.addParsed({ response: { body: { usage } } });
  }

  /** A line already parsed (undefined: not JSON). */
  addParsed(parsed: unknown): void {
    const response = isObject(parsed) ? parsed.response : undefined;
    const usage = isObject(response) && isObject(response.body) ? response.body.usage : undefined;
    if (!isObject(usage)) return;
    const responsesShape = 'input_tokens' in usage || 'output_tokens' in usage;
    const details = responsesShape ? usage.input_tokens_details : usage.prompt_tokens_details;
    const own = {
      inputTokens: count(responsesShape ? usage.input_tokens : usage.prompt_tokens),
      outputTokens: count(responsesShape ? usage.output_tokens : usage.completion_tokens),
      cachedInputTokens: isObject(details) ? count(details.cached_tokens) : 0,
    };
    this.add(own);
  }

  /** One answered request's counts, however its answer reported them. */
  add(own: RequestUsage): void {
    this.inputTokens += own.inputTokens;
    this.outputTokens += own.outputTokens;
    this.cachedInputTokens += own.cachedInputTokens;
    this.cacheWriteInputTokens += own.cacheWriteInputTokens ?? 0;
    this.cacheWrite1hInputTokens += own.cacheWrite1hInputTokens ?? 0;
    this.webSearches += own.serverToolRequests?.web_search ?? 0;
    this.webFetches += own.serverToolRequests?.web_fetch ?? 0;
    this.perRequest.push(own);
  }

  get usage(): BatchUsage {
    return {
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      cachedInputTokens: this.cachedInputTokens,
      ...(this.cacheWriteInputTokens > 0 && { cacheWriteInputTokens: this.cacheWriteInputTokens }),
      ...(this.cacheWrite1hInputTokens > 0 && {
        cacheWrite1hInputTokens: this.cacheWrite1hInputTokens,
      }),
      ...((this.webSearches > 0 || this.webFetches > 0) && {
        serverToolRequests: {
          ...(this.webSearches > 0 && { web_search: this.webSearches }),
          ...(this.webFetches > 0 && { web_fetch: this.webFetches }),
        },
      }),
      requests: this.perRequest.length,
      perRequest: [...this.perRequest],
    };
  }
}
