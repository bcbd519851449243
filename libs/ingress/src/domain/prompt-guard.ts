import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

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

  check(promptText: string): void {
    if (!this.enabled) return;
    const index = this.patterns.findIndex((pattern) => pattern.test(promptText));
    if (index >= 0) {
      throw new DataPlaneError(
        DataPlaneErrorCode.PromptBlocked,
        `The prompt was blocked by rule security.promptValidation.blockPatterns[${index}]`,
        { param: 'messages' },
      );
    }
  }
}
