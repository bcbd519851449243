// The callers a reload rechecks: the most recently settled, each once, their limits as
// the new config sets them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gpt4TurboRoute } from './testing/budget-settler-fixture';
import { RecentCallers } from './recent-callers';

const config = gpt4TurboRoute(`
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 1000, period: 1d}
`);
const subjects = (callers: RecentCallers) =>
  callers.limitsUnder(config, Date.now()).map((limit) => `${limit.subject} ${limit.limit}`);

describe('RecentCallers', () => {
  it('keeps the most recently settled, each once, and drops the least recent past its bound', () => {
    const callers = new RecentCallers(2);
    callers.remember('r', undefined, 'alice');
    callers.remember('r', undefined, 'bob');
    callers.remember('r', undefined, 'alice'); // used again: bob is now the least recent
    callers.remember('r', undefined, 'carol');
    assert.deepEqual(subjects(callers), ['alice 1000', 'carol 1000']);
  });

  it('binds nothing for a route the config no longer has', () => {
    const callers = new RecentCallers();
    callers.remember('gone', undefined, 'alice');
    assert.deepEqual(subjects(callers), []);
  });
});
