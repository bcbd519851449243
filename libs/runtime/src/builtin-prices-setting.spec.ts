import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinPricesEnabled } from './builtin-prices-setting';
import { StartupError } from './listen';

describe('AI_GATEWAY_BUILTIN_PRICES', () => {
  it('is on unless set to false', () => {
    assert.equal(builtinPricesEnabled({}), true);
    assert.equal(builtinPricesEnabled({ AI_GATEWAY_BUILTIN_PRICES: '' }), true);
    assert.equal(builtinPricesEnabled({ AI_GATEWAY_BUILTIN_PRICES: 'true' }), true);
    assert.equal(builtinPricesEnabled({ AI_GATEWAY_BUILTIN_PRICES: 'false' }), false);
    assert.equal(builtinPricesEnabled({ AI_GATEWAY_BUILTIN_PRICES: ' FALSE ' }), false);
  });

  it('refuses anything else with a one-line start-up error naming the variable', () => {
    for (const value of ['no', '0', 'off', 'flase']) {
      assert.throws(
        () => builtinPricesEnabled({ AI_GATEWAY_BUILTIN_PRICES: value }),
        (error: unknown) =>
          error instanceof StartupError &&
          error.message === `AI_GATEWAY_BUILTIN_PRICES must be "true" or "false", got "${value}"`,
      );
    }
  });
});
