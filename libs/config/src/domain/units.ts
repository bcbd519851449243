// Parsers for the human-friendly quantities the YAML uses: durations ("3600s", "1h30m"),
// byte sizes ("10GB") and budget periods ("30d", "1mo"). Pure functions, no framework.

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Go/Envoy style: one or more <number><unit> parts, e.g. "1h30m", "500ms", "1.5s".
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Milliseconds for a duration string such as "3600s", "500ms", "1m", "30d" or "1h30m"; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const input = text.trim();
  if (input === '0') return 0;
  if (input === '') return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = DURATION_PART.exec(input); match; match = DURATION_PART.exec(input)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = DURATION_PART.lastIndex;
  }
  if (consumed !== input.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

export const DURATION_EXPECTATION = 'a duration such as "500ms", "5s", "1m", "1h" or "30d"';

// Decimal units follow SI (and Kubernetes quantities: "10G" = 10^9); the "i" forms are binary.
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Bytes for a size such as "10GB" (10^9 each), "512MiB" (2^20 each) or "1024"; undefined if malformed. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : SIZE_UNITS[unit];
  if (factor === undefined) return undefined;
  return Math.round(Number(match[1]) * factor);
}

export const SIZE_EXPECTATION = 'a size such as "512MB", "10GB" or "1GiB"';

/**
 * A budget period. `fixed` is a window of a fixed length ("30d" is thirty days, not a
 * month); `calendarMonth` resets at the start of each calendar month ("1mo", "month").
 */
export type Period =
  | { readonly unit: 'fixed'; readonly ms: number; readonly text: string }
  | { readonly unit: 'calendarMonth'; readonly count: number; readonly text: string };

/** A period from "30d", "1d", "12h", "1w", "1mo", "3months", "month", "day"; undefined if malformed, zero or "1M". */
export function parsePeriod(text: string): Period | undefined {
  const input = text.trim().toLowerCase();
  const month = /^(\d+)?\s*(mo|month|months)$/.exec(input);
  if (month) {
    const count = month[1] === undefined ? 1 : Number(month[1]);
    return count > 0 ? { unit: 'calendarMonth', count, text } : undefined;
  }
  // "1M" is a month in ISO 8601, Grafana and moment, but a minute once lower-cased: read as
  // a minute, a monthly budget would become a per-minute one. Neither reading is assumed.
  if (/\d\s*M/.test(text)) return undefined;
  const words: Readonly<Record<string, string>> = {
    minute: '1m',
    hour: '1h',
    day: '1d',
    daily: '1d',
    week: '1w',
    weekly: '1w',
  };
  const ms = parseDuration(words[input] ?? input);
  return ms !== undefined && ms > 0 ? { unit: 'fixed', ms, text } : undefined;
}

export const PERIOD_EXPECTATION =
  'a period such as "1m" (a minute), "1d", "30d", "1w" or "1mo" (a calendar month; "1M" is refused as it means either)';
