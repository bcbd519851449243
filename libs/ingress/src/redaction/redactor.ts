import { operatorRegExp, type RedactConfig, type RedactMode } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BUILTIN_DETECTORS, DETECTOR_ORDER, type Detector } from './detectors';
import { indexAfterEmptyMatch } from '../domain/operator-regex';

interface Rule extends Detector {
  readonly mode: RedactMode;
  readonly placeholder: string;
}

/** Where a rule matched in a text (never the text itself); `block` when its mode is block. */
export interface RedactMatch {
  readonly start: number;
  readonly end: number;
  readonly rule: string;
  readonly block: boolean;
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

  /**
   * `blockPatterns` (the answer side's) join as block rules named
   * `blockPatterns[<i>]`, after every redact rule.
   */
  constructor(config: RedactConfig, blockPatterns: readonly string[] = []) {
    const custom: Rule[] = config.patterns.map((pattern) => ({
      name: pattern.name,
      // Case-insensitive, as blockPatterns are.
      regex: operatorRegExp(pattern.regex, 'gi'),
      mode: pattern.mode,
      placeholder: placeholderFor(pattern.name),
    }));
    const modes = new Map(config.detectors.map((d) => [d.name, d.mode]));
    const builtins: Rule[] = DETECTOR_ORDER.filter((name) => modes.has(name)).map((name) => ({
      ...BUILTIN_DETECTORS[name],
      mode: modes.get(name)!,
      placeholder: placeholderFor(name),
    }));
    const blocks: Rule[] = blockPatterns.map((source, index) => ({
      name: `blockPatterns[${index}]`,
      regex: operatorRegExp(source, 'gi'),
      mode: 'block',
      placeholder: '',
    }));
    this.rules = [...custom, ...builtins, ...blocks];
  }

  /**
   * Every accepted match starting at or after `from`, in text order. The text before
   * `from` is context the look-behinds read (a stream's text already released). Where
   * two rules' matches overlap, the earlier rule wins, as it does in `redact`.
   */
  matches(text: string, from = 0): RedactMatch[] {
    const found: RedactMatch[] = [];
    for (const rule of this.rules) {
      if (rule.mightMatch && !rule.mightMatch(text)) continue;
      const regex = rule.regex;
      regex.lastIndex = from;
      for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
        const start = m.index;
        const end = start + m[0].length;
        if (end === start) {
          // A look-around alone: nothing to mask.
          regex.lastIndex = indexAfterEmptyMatch(text, start, regex);
          continue;
        }
        // A `u` search from inside a surrogate pair cut at `from` starts at the pair.
        if (start < from) continue;
        if (rule.accept && !rule.accept(m[0])) continue;
        const block = rule.mode === 'block';
        if (found.some((other) => start < other.end && other.start < end)) {
          // A block rule wins over the masks it overlaps: the operator asked to withhold.
          if (!block || found.some((o) => o.block && start < o.end && o.start < end)) continue;
          for (let i = found.length - 1; i >= 0; i--) {
            if (start < found[i].end && found[i].start < end) found.splice(i, 1);
          }
        }
        found.push({
          start,
          end,
          rule: rule.name,
          block,
          placeholder: rule.placeholder,
        });
      }
      regex.lastIndex = 0;
    }
    return found.length > 1 ? found.sort((a, b) => a.start - b.start) : found;
  }

  /**
   * `text` with every match replaced by its placeholder, counted in `tally`; the same
   * string when nothing matched. A match of a `block` rule refuses the whole prompt,
   * naming `param` (the request field the text came from) as OpenAI's `error.param`.
   */
  redact(text: string, tally: RedactionTally, param = 'messages'): string {
    let out = text;
    for (const rule of this.rules) {
      if (rule.mightMatch && !rule.mightMatch(out)) continue;
      out = out.replace(rule.regex, (match: string) => {
        if (rule.accept && !rule.accept(match)) return match;
        if (rule.mode === 'block') throw blocked(rule.name, param);
        tally.set(rule.name, (tally.get(rule.name) ?? 0) + 1);
        return rule.placeholder;
      });
    }
    return out;
  }
}

function blocked(name: string, param: string): DataPlaneError {
  // Names the rule, never the text that matched it.
  return new DataPlaneError(
    DataPlaneErrorCode.PromptBlocked,
    `The prompt was blocked by rule security.promptValidation.redact (${name})`,
    { param },
  );
}
