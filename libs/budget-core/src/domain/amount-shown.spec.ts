// Dollar amounts in budget messages: to the micro-dollar, rounded up, exactly at any
// magnitude a budget can hold; only float noise a few doubles above a micro-dollar is
// dropped. Rounding the scaled float to 12 significant digits instead would move amounts of
// $1,000,000 and more, by up to a cent at $1e10 and a dollar at $1e12, sometimes below them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amountShown } from './budget-refusal';

const dollars = (amount: number) => amountShown(amount, 'dollars');

/** A seeded generator, so a failure names a case that can be run again. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A whole count below 10^digits (up to 15 digits, so it and count/10^k read back exactly). */
function countBelow(random: () => number, digits: number): bigint {
  const high = BigInt(Math.floor(random() * 10 ** Math.max(0, digits - 8)));
  const low = BigInt(Math.floor(random() * 10 ** Math.min(8, digits)));
  return high * 10n ** BigInt(Math.min(8, digits)) + low;
}

/** `count` / 10^places as a plain decimal, trailing zeros dropped. */
function decimal(count: bigint, places: number): string {
  const text = count.toString().padStart(places + 1, '0');
  const fraction = text.slice(-places).replace(/0+$/, '');
  return fraction ? `${text.slice(0, -places)}.${fraction}` : text.slice(0, -places);
}

describe('amountShown in dollars', () => {
  it('shows amounts around $1,000,000 and at $1e12 exactly', () => {
    const cases: [number, string][] = [
      [999_999.995, '999999.995'],
      [1_000_000.001, '1000000.001'],
      [12_345_678.91, '12345678.91'],
      [1e12, '1000000000000'],
      // Each of these was shown wrong: 1000000000000, 1000000000000 and 1234567890120.
      [1e12 + 0.01, '1000000000000.01'],
      [999_999_999_999.99, '999999999999.99'],
      [1_234_567_890_123.45, '1234567890123.45'],
      [9_876_543_210_987.65, '9876543210987.65'],
      // And these below the amount: 12345678.91 and 1000000.
      [12_345_678.910001, '12345678.910001'],
      [1_000_000.0000001, '1000000.000001'],
      [999_999.9950001, '999999.995001'],
    ];
    for (const [amount, shown] of cases) assert.equal(dollars(amount), shown, String(amount));
  });

  it('drops the noise of float sums, at small and large amounts', () => {
    const cases: [number, string][] = [
      [0.1 + 0.2, '0.3'],
      [300_000.00000000006, '300000'],
      [2.4589499999999997, '2.45895'],
      [0.15 * 4.096 + 0.6 * 0.012, '0.6216'],
      [999_999.99 + 0.005, '999999.995'],
      [12_345_678.9 + 0.01, '12345678.91'],
      [1e9 + 0.1 + 0.2, '1000000000.3'],
      [1e12 + 0.004 + 0.006, '1000000000000.01'],
    ];
    for (const [amount, shown] of cases) assert.equal(dollars(amount), shown, String(amount));
  });

  it('rounds a real part of a micro-dollar up, and never shows an amount above 0 as 0', () => {
    assert.equal(dollars(2.4589501), '2.458951');
    assert.equal(dollars(999_999.9999999), '1000000');
    assert.equal(dollars(1e-7), '0.000001');
    assert.equal(dollars(5e-324), '0.000001');
    assert.equal(dollars(0), '0');
  });

  it('shows every whole micro-dollar amount below $1e9 as itself', () => {
    const random = randomFrom(27);
    for (let i = 0; i < 20_000; i++) {
      const micros = countBelow(random, 1 + (i % 15));
      const amount = Number(micros) / 1e6;
      assert.equal(dollars(amount), decimal(micros, 6), `${micros} micro-dollars`);
    }
  });

  it('shows every whole cent amount below $1e13 as itself', () => {
    const random = randomFrom(1_000_000);
    for (let i = 0; i < 20_000; i++) {
      const cents = countBelow(random, 1 + (i % 15));
      const amount = Number(cents) / 100;
      assert.equal(dollars(amount), decimal(cents, 2), `${cents} cents`);
    }
  });

  it('is never a micro-dollar or more above, nor below, a sum of prices', () => {
    const random = randomFrom(5);
    for (let i = 0; i < 20_000; i++) {
      const tokens = Math.floor(random() * 10 ** (1 + (i % 7)));
      const amount = (tokens * Math.floor(random() * 100_000)) / 1e8 + random() / 1e3;
      const shown = dollars(amount);
      assert.match(shown, /^\d+(\.\d{1,6})?$/, String(amount));
      // Below $1e6, these float comparisons are far finer than a micro-dollar. Below the
      // amount only by noise: at most 64 doubles (of the amount's size).
      const noise = 64 * 2 ** (Math.floor(Math.log2(amount)) - 52);
      assert.ok(Number(shown) >= amount - noise, `${shown} below ${amount}`);
      assert.ok(Number(shown) - 1e-6 < amount, `${shown} a micro-dollar above ${amount}`);
    }
  });

  it('shows whole dollars, and amounts of other units, as they print', () => {
    assert.equal(dollars(5), '5');
    assert.equal(dollars(1e21), '1e+21');
    assert.equal(amountShown(4096, 'tokens'), '4096');
    assert.equal(amountShown(3, 'requests'), '3');
  });
});
