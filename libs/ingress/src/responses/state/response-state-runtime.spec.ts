import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writesAncestorLists } from './response-state-runtime';

describe('AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS', () => {
  it("writes the older release's whole lists to a shared store unless turned off, never to memory", () => {
    assert.equal(writesAncestorLists({}, true), true);
    assert.equal(
      writesAncestorLists({ AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS: '' }, true),
      true,
    );
    assert.equal(
      writesAncestorLists({ AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS: 'false' }, true),
      false,
    );
    assert.equal(writesAncestorLists({}, false), false);
    assert.equal(
      writesAncestorLists({ AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS: 'true' }, false),
      false,
    );
  });

  it('refuses a value that is not true or false, naming the setting', () => {
    assert.throws(
      () => writesAncestorLists({ AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS: 'yes' }, true),
      /AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS must be true or false, got "yes"/,
    );
  });
});
