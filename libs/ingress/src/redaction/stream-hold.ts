import type { RedactDetectorName, ResponseValidationConfig } from '@aigw/config';

/**
 * The longest text each built-in detector must see whole before it can tell a match: a
 * stream's hold shorter than that lets the start of a match go out before the match is
 * recognised, and the rest no longer matches (the detectors match only from a token's
 * start). Without a check digit it is the longest of the shortest forms a detector
 * recognises; with one (a card's Luhn, an IBAN's mod 97, a phone's digit count), the
 * longest match it accepts, since a shorter prefix may fail the check. A hold one shorter
 * is enough (stream-hold.spec.ts streams each worst case a character at a time).
 */
export const DETECTOR_STREAM_HOLD: Readonly<Record<RedactDetectorName, number>> = {
  apiKey: 40, // a GitHub token: ghp_ and 36 characters (sk- keys: 23; Google's AIza: 39)
  email: 131, // a local part of 64, @, a first label of 63, a dot and a TLD's first two letters
  iban: 42, // 34 characters, printed in groups of four
  creditCard: 23, // 19 digits printed 4-4-4-4-3
  usSsn: 11, // 123-45-6789
  phone: 24, // 15 digits (E.164's most) with a +, brackets and five separators
};

/**
 * The hold a route's streams get: `streamHoldChars`, raised to what its built-in detectors
 * need, so none misses a match because the setting is short. Custom patterns and
 * blockPatterns are the operator's: they are caught when a match shows within
 * `streamHoldChars` characters, so the setting must be at least as long as the longest
 * text such a pattern needs to see before it matches.
 */
export function streamHoldFor(config: ResponseValidationConfig): number {
  let hold = config.streamHoldChars;
  for (const detector of config.redact?.detectors ?? []) {
    hold = Math.max(hold, DETECTOR_STREAM_HOLD[detector.name]);
  }
  return hold;
}
