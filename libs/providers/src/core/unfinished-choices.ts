import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

/**
 * The choices of an OpenAI-format stream that spoke but have not finished yet. Every
 * choice ends with its finish_reason before `[DONE]`; one still open at `[DONE]` was cut
 * short, and relaying the `[DONE]` would make the cut answer look whole.
 */
export class UnfinishedChoices {
  private readonly open = new Set<number>();
  private readonly finished = new Set<number>();

  /** Takes note of one chunk's choice. */
  saw(choice: JsonObject): void {
    // OpenAI numbers every choice; a backend that leaves it out streams one.
    const index = typeof choice.index === 'number' ? choice.index : 0;
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.finished.add(index);
      this.open.delete(index);
    } else if (!this.finished.has(index)) {
      // Annotations after a choice's finish (Azure's content filter results) leave it done.
      this.open.add(index);
    }
  }

  get any(): boolean {
    return this.open.size > 0;
  }

  /** Whether the stream carried any choice at all: one that never did holds no answer. */
  get sawChoice(): boolean {
    return this.open.size > 0 || this.finished.size > 0;
  }
}

/**
 * The finish reasons that mean the backend failed mid-answer: OpenRouter's and others'
 * "error" (often with a top-level error, caught before this), and DeepSeek's
 * "insufficient_system_resource" (generation cut for want of inference resources).
 */
const FAILED_FINISH_REASONS: ReadonlySet<unknown> = new Set([
  'error',
  'insufficient_system_resource',
]);

/**
 * A choice its backend finished as failed. Relayed, it would end a cut answer as a
 * finished one.
 */
export function choiceFailed(choice: JsonObject): boolean {
  return FAILED_FINISH_REASONS.has(choice.finish_reason) || isJsonObject(choice.error);
}
