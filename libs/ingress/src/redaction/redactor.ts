import type { RedactConfig, RedactMode } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BUILTIN_DETECTORS, DETECTOR_ORDER, type Detector } from './detectors';

interface Rule extends Detector {
  readonly mode: RedactMode;
  readonly placeholder: string;
}

/** Matches per detector name, for the metric; never the matched text. */
export type RedactionTally = Map<string, number>;

export const placeholderFor = (name: string): string => `[REDACTED:${name}]`;

/**
 * `security.promptValidation.redact`, compiled once per configuration: the route's own
 * patterns first (an operator's rule wins over a built-in's), then the built-ins from the
 * most specific to the loosest. Each rule scans a text once with its global regex.
 */
export class Redactor {
  private readonly rules: readonly Rule[];

  constructor(config: RedactConfig) {
    const custom: Rule[] = config.patterns.map((pattern) => ({
      name: pattern.name,
      // Case-insensitive, as blockPatterns are.
      regex: new RegExp(pattern.regex, 'gi'),
      mode: pattern.mode,
      placeholder: placeholderFor(pattern.name),
    }));
    const modes = new Map(config.detectors.map((d) => [d.name, d.mode]));
    const builtins: Rule[] = DETECTOR_ORDER.filter((name) => modes.has(name)).map((name) => ({
      ...BUILTIN_DETECTORS[name],
      mode: modes.get(name)!,
      placeholder: placeholderFor(name),
    }));
    this.rules = [...custom, ...builtins];
  }

  /**
   * `text` with every match replaced by its placeholder, counted in `tally`; the same
   * string when nothing matched. A match of a `block` rule refuses the whole prompt.
   */
  redact(text: string, tally: RedactionTally): string {
    let out = text;
    for (const rule of this.rules) {
      if (rule.mightMatch && !rule.mightMatch(out)) continue;
      out = out.replace(rule.regex, (match: string) => {
        if (rule.accept && !rule.accept(match)) return match;
        if (rule.mode === 'block') throw blocked(rule.name);
        tally.set(rule.name, (tally.get(rule.name) ?? 0) + 1);
        return rule.placeholder;
      });
    }
    return out;
  }
}

function blocked(name: string): DataPlaneError {
  // Names the rule, never the text that matched it.
  return new DataPlaneError(
    DataPlaneErrorCode.PromptBlocked,
    `The prompt was blocked by rule security.promptValidation.redact (${name})`,
    { param: 'messages' },
  );
}
