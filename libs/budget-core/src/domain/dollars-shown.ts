// A dollar amount as budget messages show it: to the micro-dollar, rounded up, exactly at
// any magnitude. It works on the decimal the number prints as, in BigInt: scaling the float
// by 1e6 and rounding that to 12 digits moves amounts of $1,000,000 and more, by up to a
// cent at $1e10 and a dollar at $1e12, sometimes below the amount.

const PLACES = 6;

/**
 * Float sums of per-token prices land a few doubles off the exact sum (0.1 + 0.2 prints as
 * 0.30000000000000004): an amount at most this many doubles above a micro-dollar is that
 * micro-dollar, not the next one up. What it drops is less than a micro-dollar: the amount
 * is less than one above the micro-dollar below it.
 */
const NOISE_DOUBLES = 64n;

/** `amount` dollars to the micro-dollar, rounded up (float noise aside), without exponent. */
export function dollarsShown(amount: number): string {
  // Whole dollars print exactly (1e+21 too); budgets hold no negative or infinite amount.
  if (!Number.isFinite(amount) || amount < 0 || Number.isInteger(amount)) return String(amount);
  const { digits, places } = printedDecimal(amount);
  if (places <= PLACES) return String(amount);
  const scale = 10n ** BigInt(places - PLACES);
  const micros = digits / scale;
  const below = microText(micros);
  // An amount above 0 never shows as 0: near 0, a few doubles are denormals, not noise.
  if (micros > 0n && doublesBetween(Number(below), amount) <= NOISE_DOUBLES) return below;
  return microText(micros + 1n);
}

/** The shortest decimal that reads back as `amount` (what String prints): digits × 10^-places. */
function printedDecimal(amount: number): { digits: bigint; places: number } {
  const [mantissa, exponent = '0'] = String(amount).split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  return { digits: BigInt(whole + fraction), places: fraction.length - Number(exponent) };
}

/** A count of micro-dollars as dollars, trailing zeros dropped: 2458950n is 2.45895. */
function microText(micros: bigint): string {
  const text = micros.toString().padStart(PLACES + 1, '0');
  const fraction = text.slice(-PLACES).replace(/0+$/, '');
  const whole = text.slice(0, -PLACES);
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

const float = new DataView(new ArrayBuffer(8));

/** How many doubles lie from `low` up to `high` (0 <= low <= high): their bit patterns' gap. */
function doublesBetween(low: number, high: number): bigint {
  float.setFloat64(0, low);
  const lowBits = float.getBigUint64(0);
  float.setFloat64(0, high);
  return float.getBigUint64(0) - lowBits;
}
