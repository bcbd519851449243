import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';
import { embeddingTitles } from './embedding-titles';
import { promptTextOnce } from './prompt-text-once';

/**
 * `security.promptValidation.blockPatterns`, compiled once per configuration. A match
 * is rejected naming the rule, never echoing the matched text back.
 */
export class PromptGuard {
  private readonly patterns: readonly RegExp[];

  constructor(
    private readonly enabled: boolean,
    sources: readonly string[],
  ) {
    this.patterns = sources.map((source) => new RegExp(source, 'i'));
  }

  /** `param` is the request field the text came from, for OpenAI's `error.param`. */
  check(promptText: string, param = 'messages'): void {
    if (!this.enabled) return;
    const index = this.patterns.findIndex((pattern) => pattern.test(promptText));
    if (index >= 0) {
      throw new DataPlaneError(
        DataPlaneErrorCode.PromptBlocked,
        `The prompt was blocked by rule security.promptValidation.blockPatterns[${index}]`,
        { param },
      );
    }
  }

  /**
   * Every text of a body that reaches the model, as `operation` reads it. An embeddings
   * input is sent on as surely as a chat message is, and so are its document titles; token
   * ids carry no text a pattern could match and pass unread.
   */
  checkBody(operation: Operation, body: JsonObject): void {
    switch (operation) {
      case 'embeddings': {
        this.check(promptTextOnce(body), 'input');
        const titles = embeddingTitles(body);
        if (titles.length > 0) this.check(titles.join('\n'), 'title');
        return;
      }
      case 'completions':
        // The model continues the prompt up to the suffix: both are sent on.
        this.check(promptTextOnce(body), 'prompt');
        if (typeof body.suffix === 'string') this.check(body.suffix, 'suffix');
        return;
      default:
        this.check(promptTextOnce(body));
    }
  }
}
