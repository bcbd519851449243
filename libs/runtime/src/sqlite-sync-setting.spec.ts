import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StartupError } from './listen';
import { sqliteSync } from './sqlite-sync-setting';

describe('AI_GATEWAY_SQLITE_SYNC', () => {
  it('is full unless set to normal', () => {
    assert.equal(sqliteSync({}), 'full');
    assert.equal(sqliteSync({ AI_GATEWAY_SQLITE_SYNC: '' }), 'full');
    assert.equal(sqliteSync({ AI_GATEWAY_SQLITE_SYNC: ' Full ' }), 'full');
    assert.equal(sqliteSync({ AI_GATEWAY_SQLITE_SYNC: 'NORMAL' }), 'normal');
  });

  it('stops the start on anything else, naming the value', () => {
    for (const given of ['off', 'extra', '2', 'full;']) {
      assert.throws(
        () => sqliteSync({ AI_GATEWAY_SQLITE_SYNC: given }),
        (error: unknown) =>
          error instanceof StartupError &&
          error.message === `AI_GATEWAY_SQLITE_SYNC must be "full" or "normal", got "${given}"`,
      );
    }
  });
});
