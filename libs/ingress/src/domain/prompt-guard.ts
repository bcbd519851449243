import { operatorRegExp } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  fieldText,
  PROMPT_TEXT_FIELDS,
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
    this.patterns = sources.map((source) => operatorRegExp(source, 'i'));
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
   * Every text of a body that reaches the model: each field of PROMPT_TEXT_FIELDS present
   * (a decoy field beside the operation's own reaches an OpenAI-format backend too), and an
   * embedding's document titles. A refusal names the field the match was in; a chat's, whose
   * prompt text admission reads again for its estimate, names messages. Token ids are read
   * apart, decoded by the receiving model's tokenizer (checkTokenIdPrompts).
   */
  checkBody(operation: Operation, body: JsonObject): void {
    if (!this.enabled) return;
    // A Predicted Output is read by the model beside the prompt, on any operation's body.
    const prediction = body.prediction;
    if (prediction !== undefined && prediction !== null) {
      this.check(fieldText(prediction), 'prediction');
    }
    if (operation === 'chat') return this.check(promptTextOnce(body));
    for (const field of PROMPT_TEXT_FIELDS) {
      const value = body[field];
      if (value !== undefined && value !== null) this.check(fieldText(value), field);
    }
    if (operation !== 'embeddings') return;
    const titles = embeddingTitles(body);
    if (titles.length > 0) this.check(titles.join('\n'), 'title');
  }
}
