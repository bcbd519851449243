import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';

/** What a batch input file may cost, summed over its lines: its hold's counts. */
export interface BatchEstimate {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly requests: number;
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

  constructor(private readonly defaultMaxOutputTokens: number) {}

  add(url: unknown, body: Readonly<Record<string, unknown>>): void {
    this.requests++;
    this.inputTokens += estimatePromptTokensUpperBound(body);
    if (url === '/v1/embeddings') return;
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
    };
  }
}
