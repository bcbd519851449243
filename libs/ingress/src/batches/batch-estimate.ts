import { estimatePromptTokensUpperBound, promptMedia } from '@aigw/contracts/data-plane';

/** What a batch input file may cost, summed over its lines: its hold's counts. */
export interface BatchEstimate {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly requests: number;
  /**
   * The largest line's prompt estimate: the long-prompt price tier a line may reach (tiers
   * price one request's prompt, never the file's sum). Absent on an older record.
   */
  readonly largestPromptTokens?: number;
  /** The lines' urls, each once: a batch runs them at its endpoint, which must be theirs. */
  readonly urls?: readonly string[];
  /**
   * The lines' prompt images (their PDFs' pages among them), each in `inputTokens` at
   * TOKENS_PER_IMAGE: the hold adds what the batch's model bills for one past that
   * (imageTokensUpperBound). Absent on an older record.
   */
  readonly images?: number;
}

const positive = (value: unknown): number | undefined => {
  const number = Number(value);
  return value !== undefined && value !== null && Number.isFinite(number) && number > 0
    ? Math.floor(number)
    : undefined;
};

/**
 * Sums a batch input file's worst case as its lines are read at upload: each line's
 * prompt estimate (the one a single call is held for) plus the output it may produce,
 * `max_completion_tokens`/`max_tokens` (`max_output_tokens` for the Responses API) per
 * choice, or `defaultMaxOutputTokens` when it sets none; embeddings produce no output.
 */
export class BatchEstimator {
  private inputTokens = 0;
  private outputTokens = 0;
  private requests = 0;
  private largestPromptTokens = 0;
  private images = 0;
  private readonly urls = new Set<string>();

  constructor(private readonly defaultMaxOutputTokens: number) {}

  add(url: unknown, body: Readonly<Record<string, unknown>>): void {
    this.requests++;
    this.urls.add(String(url));
    const chat = url === '/v1/responses' ? asChatPrompt(body) : body;
    // Read once: the estimate counts the line's images and PDF pages, and so does the hold.
    const media = promptMedia(chat);
    const prompt = estimatePromptTokensUpperBound(chat, undefined, media);
    this.inputTokens += prompt;
    if (prompt > this.largestPromptTokens) this.largestPromptTokens = prompt;
    if (url === '/v1/embeddings') return;
    // A PDF's pages too: the model reads each as an image of the page beside its text.
    this.images += media.images + media.pdfPages;
    const asked =
      url === '/v1/responses'
        ? positive(body.max_output_tokens)
        : positive(body.max_completion_tokens ?? body.max_tokens);
    const choices = url === '/v1/responses' ? 1 : (positive(body.n) ?? 1);
    this.outputTokens += (asked ?? this.defaultMaxOutputTokens) * choices;
  }

  get estimate(): BatchEstimate {
    return {
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      requests: this.requests,
      largestPromptTokens: this.largestPromptTokens,
      urls: [...this.urls],
      ...(this.images > 0 && { images: this.images }),
    };
  }
}

/**
 * A Responses body's prompt as the chat messages a single Responses call becomes (its
 * instructions first, each input item a message, function calls by their arguments and
 * outputs), with its tools: what the single call's estimate reads.
 */
function asChatPrompt(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const input = body.input;
  const items = input === undefined ? [] : Array.isArray(input) ? input : [input];
  const messages: unknown[] = items.map((item: unknown) => {
    if (typeof item === 'string') return { role: 'user', content: item };
    const object = (item ?? {}) as Record<string, unknown>;
    if (object.type === 'function_call') {
      return { role: 'assistant', tool_calls: [{ function: { arguments: object.arguments } }] };
    }
    if (object.type === 'function_call_output') return { role: 'tool', content: object.output };
    return Array.isArray(object.content)
      ? { ...object, content: object.content.map(chatPart) }
      : object;
  });
  if (body.instructions !== undefined) {
    messages.unshift({ role: 'system', content: body.instructions });
  }
  return { messages, ...(body.tools !== undefined && { tools: body.tools }) };
}

/**
 * A Responses content part as its chat form where the estimate reads it apart: an
 * `input_image` is an `image_url` part (by URL or by `file_id`, billed as an image alike).
 */
function chatPart(part: unknown): unknown {
  const { type, image_url: url } = (part ?? {}) as { type?: unknown; image_url?: unknown };
  if (type !== 'input_image') return part;
  return { type: 'image_url', image_url: { url: typeof url === 'string' ? url : '' } };
}
