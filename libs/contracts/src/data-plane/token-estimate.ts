// Token counts where a provider reports none, and for budget reservations before a call.
import { PdfReadAllowance, pdfPageCount } from './pdf-pages';
import { tokenizerPieces } from './tokenizer-pieces';
interface Encoding {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
  setMergeCacheSize(size: number): void;
}

// The cl100k encoding (gpt-tokenizer): ~11 MB of RSS and 100-150 ms to load, measured;
// o200k costs about twice that and js-tiktoken 4-5 times. It loads on the first
// estimate only: most providers report usage and never need it.
const ENCODING_MODULE = 'gpt-tokenizer/encoding/cl100k_base';
// Beyond this many characters we tokenize samples of it and scale, so one huge prompt
// cannot hold the event loop.
const MAX_EXACT_CHARS = 16 * 1024;
// What a long text is sampled by: its start, middle and end, each this long.
const SAMPLE_CHARS = 4 * 1024;
// Special-token text in a prompt is ordinary text to us, never a reason to throw.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const CHARS_PER_TOKEN = 4;
const MERGE_CACHE_ENTRIES = 4096;

let encoding: Encoding | null | undefined;

function loadEncoding(): Encoding | null {
  if (encoding === undefined) {
    try {
      // A runtime require keeps the encoding out of start-up; see ENCODING_MODULE.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      encoding = require(ENCODING_MODULE) as Encoding;
      // The default merge cache holds 100,000 entries (~10 MB of heap); estimates need few.
      encoding.setMergeCacheSize(MERGE_CACHE_ENTRIES);
    } catch {
      encoding = null; // a missing tokenizer degrades to the character rule, never fails a call
    }
  }
  return encoding;
}

/** Tokens in `text` by a real BPE tokenizer (OpenAI's cl100k); an estimate for other models. */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  const bpe = loadEncoding();
  if (!bpe) return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
  if (text.length <= MAX_EXACT_CHARS) return countInPieces(bpe, text);
  const middle = Math.floor((text.length - SAMPLE_CHARS) / 2);
  const sampled =
    countInPieces(bpe, text.slice(0, SAMPLE_CHARS)) +
    countInPieces(bpe, text.slice(middle, middle + SAMPLE_CHARS)) +
    countInPieces(bpe, text.slice(-SAMPLE_CHARS));
  return Math.ceil((sampled * text.length) / (3 * SAMPLE_CHARS));
}

/** The tokens of `text`, counted piece by piece so no run costs more than a piece. */
function countInPieces(bpe: Encoding, text: string): number {
  let tokens = 0;
  for (const piece of tokenizerPieces(text)) tokens += bpe.countTokens(piece, PLAIN_TEXT);
  return tokens;
}

/**
 * The fields whose text a request sends the model. Every one present is read, whatever the
 * operation: an OpenAI-format backend gets the body as it came, so a field the operation
 * does not use (a `prompt` beside an embeddings `input`) still reaches it, and a rule that
 * read only the operation's own field could be passed by a decoy beside it.
 */
export const PROMPT_TEXT_FIELDS = [
  'messages',
  'prompt',
  'suffix',
  'input',
  'query',
  'documents',
] as const;

/**
 * The text of one request field as the model reads it: strings, message content and text
 * parts (or `{text}` items: a rerank's documents, a moderation's parts), and the arguments
 * of earlier tool calls (which the client also sends, and the provider counts).
 */
export function fieldText(value: unknown): string {
  const parts: string[] = [];
  collectText(value, parts);
  return parts.join('\n');
}

/**
 * Concatenates the text a request sends the model, every field of PROMPT_TEXT_FIELDS, for
 * prompt rules and prompt token estimates.
 */
export function promptText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const field of PROMPT_TEXT_FIELDS) {
    const value = body[field];
    if (value !== undefined && value !== null) collectText(value, parts);
  }
  return parts.join('\n');
}

function collectText(value: unknown, parts: string[]): void {
  if (typeof value === 'string') parts.push(value);
  else if (Array.isArray(value)) for (const item of value) collectText(item, parts);
  else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    collectText(record.content ?? record.text, parts);
    if (Array.isArray(record.tool_calls)) {
      for (const call of record.tool_calls) {
        pushArguments((call as { function?: unknown } | null)?.function, parts);
      }
    }
    pushArguments(record.function_call, parts); // the legacy single call
  }
}

/**
 * A call's arguments: JSON text as OpenAI sends them, or the object itself (as vLLM and
 * Ollama take them, and the translating adapters send on), read as its JSON.
 */
function pushArguments(fn: unknown, parts: string[]): void {
  const args = (fn as { arguments?: unknown } | null | undefined)?.arguments;
  if (typeof args === 'string') parts.push(args);
  else if (args !== undefined && args !== null) parts.push(JSON.stringify(args));
}

// Providers count more prompt tokens than the text: a few per message for role and
// framing, a few to prime the reply, and the tool definitions. OpenAI documents about
// 3-4 per message and 3 for the reply; we take the high end so estimates err upwards.
const TOKENS_PER_MESSAGE = 4;
const REPLY_PRIMER_TOKENS = 3;

// Every cl100k token covers at least one byte, so a text's UTF-8 length bounds its token
// count from above. For short texts that bound is within a few hundred tokens (given
// back when the call settles) and spares the admission path the tokenizer: its CPU per
// request and ~30 MB of memory for a process that may never need it otherwise.
const BYTE_BOUND_MAX_BYTES = 1024;

function textTokensUpperBound(text: string): number {
  // UTF-16 length ≤ bytes ≤ 3 × UTF-16 length: skip the byte count when it cannot be short.
  if (text.length <= BYTE_BOUND_MAX_BYTES) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= BYTE_BOUND_MAX_BYTES) return bytes;
  }
  return estimateTokens(text);
}

// What one image in a prompt may cost, from above: OpenAI bills a high-detail image at
// most ~1,500 tokens (85 + 170 per 512 px tile) and Anthropic ~1,600 (its 1.15-megapixel
// cap at 750 pixels a token). The text estimate leaves images out (their base64 is not
// text), so without this a request of images was held for its text alone.
export const TOKENS_PER_IMAGE = 1_600;

// What one page of a PDF in a prompt may cost, from above: Anthropic documents 1,500-3,000
// tokens of text a page, and each page is also seen as an image (OpenAI likewise reads a
// PDF's text and an image of each page). Left out, a 100-page PDF was held, and counted
// by count_tokens, as a few tokens.
export const TOKENS_PER_PDF_PAGE = 3_000 + TOKENS_PER_IMAGE;

/** How far into a file PDF readers look for its `%PDF-` header. */
export const PDF_HEADER_BYTES = 1024;
const PDF_HEADER = Buffer.from('%PDF-', 'latin1');

/** Whether a file that starts with `head` is a PDF: `%PDF-` in its first PDF_HEADER_BYTES. */
export function startsAsPdf(head: Buffer): boolean {
  return head.subarray(0, PDF_HEADER_BYTES).includes(PDF_HEADER);
}

/**
 * The pages of an uploaded file that is a PDF, counted as a prompt's inline PDFs are;
 * undefined for any other file.
 */
export function uploadedPdfPages(bytes: Buffer): number | undefined {
  return startsAsPdf(bytes) ? pdfPageCount(bytes) : undefined;
}

/** A chat `file` part's inline PDF (`file_data: data:application/pdf;base64,…`). */
const INLINE_PDF = /^data:application\/pdf;base64,/i;

/** The pages of a chat `file` part's inline PDF (none for any other part). */
function inlinePdfPages(part: unknown, pdfs: PdfReadAllowance): number {
  const { type, file } = (part ?? {}) as { type?: unknown; file?: { file_data?: unknown } };
  const data = type === 'file' ? file?.file_data : undefined;
  if (typeof data !== 'string') return 0;
  const inline = INLINE_PDF.exec(data);
  return inline ? pdfPageCount(data.slice(inline[0].length), pdfs) : 0;
}

/** What a chat prompt shows the model besides text, read in one walk of its parts. */
export interface PromptMedia {
  /** Its `image_url` parts, each held at TOKENS_PER_IMAGE by the estimates here. */
  readonly images: number;
  /**
   * Its inline PDFs' pages, each held at TOKENS_PER_PDF_PAGE: a model reads each page as an
   * image too (TOKENS_PER_IMAGE of it), so admission holds them more on models that bill an
   * image more.
   */
  readonly pdfPages: number;
}

/**
 * A chat prompt's images and inline PDF pages. The estimates read it themselves; a caller
 * that needs the counts too reads it once and passes it on (a PDF's pages are a decode).
 */
export function promptMedia(body: Readonly<Record<string, unknown>>): PromptMedia {
  let images = 0;
  let pdfPages = 0;
  const pdfs = new PdfReadAllowance();
  eachContentPart(body, (part) => {
    if ((part as { type?: unknown } | null)?.type === 'image_url') images++;
    else pdfPages += inlinePdfPages(part, pdfs);
  });
  return { images, pdfPages };
}

/** Calls `visit` with each content part of a chat body's messages (string contents have none). */
export function eachContentPart(
  body: Readonly<Record<string, unknown>>,
  visit: (part: unknown) => void,
): void {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content;
    if (Array.isArray(content)) for (const part of content) visit(part);
  }
}

function promptFraming(body: Record<string, unknown>, media: PromptMedia): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const mediaTokens = media.images * TOKENS_PER_IMAGE + media.pdfPages * TOKENS_PER_PDF_PAGE;
  return (
    messages.length * TOKENS_PER_MESSAGE +
    (messages.length > 0 ? REPLY_PRIMER_TOKENS : 0) +
    mediaTokens
  );
}

/**
 * A prompt-token estimate meant to be at least what the provider will report: the text
 * (by its byte length when short, else by tokenizer), plus message framing and tool
 * definitions. Budget reservations use it; settlement replaces it with the real count.
 */
export function estimatePromptTokensUpperBound(
  body: Record<string, unknown>,
  /** promptText(body), when the caller has it already (the edge's prompt guard built it). */
  text: string = promptText(body),
  /** promptMedia(body), when the caller needs the counts too. */
  media: PromptMedia = promptMedia(body),
): number {
  const tools = body.tools === undefined ? 0 : textTokensUpperBound(JSON.stringify(body.tools));
  return textTokensUpperBound(text) + promptFraming(body, media) + tools + promptTokenIds(body);
}

/** The prompt's tokens by tokenizer, with framing and tools: what `count_tokens` answers. */
export function countPromptTokens(
  body: Record<string, unknown>,
  /** promptMedia(body), when the caller needs the counts too. */
  media: PromptMedia = promptMedia(body),
): number {
  const tools = body.tools === undefined ? 0 : estimateTokens(JSON.stringify(body.tools));
  return (
    estimateTokens(promptText(body)) + promptFraming(body, media) + tools + promptTokenIds(body)
  );
}

/**
 * The token ids a request sends as its prompt: an embeddings `input` or a completion's
 * `prompt` may be ids (number[] or number[][]) rather than text, one token each, which
 * the text above leaves out; uncounted, a prompt of ids would be held and estimated as free.
 */
function promptTokenIds(body: Record<string, unknown>): number {
  let ids = 0;
  for (const field of PROMPT_TEXT_FIELDS) {
    const value = body[field];
    if (field === 'messages' || !Array.isArray(value)) continue;
    for (const item of value) {
      if (typeof item === 'number') ids++;
      else if (Array.isArray(item)) {
        for (const id of item) if (typeof id === 'number') ids++;
      }
    }
  }
  return ids;
}
