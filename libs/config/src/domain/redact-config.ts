/**
 * `security.promptValidation.redact` (an extension to the spec): sensitive data masked in
 * prompts before a provider sees them, by built-in detectors and the route's own patterns.
 */
export const REDACT_DETECTORS = [
  'email',
  'phone',
  'creditCard',
  'iban',
  'usSsn',
  'apiKey',
] as const;
export type RedactDetectorName = (typeof REDACT_DETECTORS)[number];

/** `redact` replaces a match by `[REDACTED:<name>]`; `block` refuses the prompt (a 400). */
export const REDACT_MODES = ['redact', 'block'] as const;
export type RedactMode = (typeof REDACT_MODES)[number];

export interface RedactDetectorConfig {
  readonly name: RedactDetectorName;
  readonly mode: RedactMode;
}

export interface RedactPatternConfig {
  /** Names the placeholder and the metric's `detector` label. */
  readonly name: string;
  /** A JavaScript regular expression source, checked to compile and to match no empty text. */
  readonly regex: string;
  readonly mode: RedactMode;
}

export interface RedactConfig {
  readonly detectors: readonly RedactDetectorConfig[];
  readonly patterns: readonly RedactPatternConfig[];
}
