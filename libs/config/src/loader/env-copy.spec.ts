import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEnvCopy } from './env-copy';

describe('withEnvCopy', () => {
  it('shows the work the same names and values, then puts the real environment back', () => {
    const real = process.env;
    const seen = withEnvCopy(() => ({
      same: process.env === real,
      path: process.env.PATH,
      names: Object.keys(process.env).sort(),
    }));
    assert.equal(seen.same, false);
    assert.equal(seen.path, real.PATH);
    assert.deepEqual(seen.names, Object.keys(real).sort());
    assert.equal(process.env, real);
  });

  it('puts it back when the work throws', () => {
    const real = process.env;
    assert.throws(
      () =>
        withEnvCopy(() => {
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(process.env, real);
  });
});
