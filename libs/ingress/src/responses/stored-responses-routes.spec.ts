import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import {
  inputItemsPage,
  refuseStreamedRetrieval,
  retrievedResponse,
} from './stored-responses-routes';
import { storedRecord } from './state/test-records';

const items = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, type: 'message' }));
const ids = (page: Record<string, unknown>) => (page.data as { id: string }[]).map((i) => i.id);

describe('input_items pages', () => {
  it('lists newest first by default, 20 at most, with its cursors', () => {
    const page = inputItemsPage(items, {});
    assert.deepEqual(ids(page), ['e', 'd', 'c', 'b', 'a']);
    assert.deepEqual(
      { ...page, data: undefined },
      { object: 'list', data: undefined, first_id: 'e', last_id: 'a', has_more: false },
    );
  });

  it('pages with limit, order and after', () => {
    const first = inputItemsPage(items, { order: 'asc', limit: '2' });
    assert.deepEqual(ids(first), ['a', 'b']);
    assert.equal(first.has_more, true);
    const second = inputItemsPage(items, { order: 'asc', limit: '2', after: 'b' });
    assert.deepEqual(ids(second), ['c', 'd']);
    const last = inputItemsPage(items, { order: 'asc', limit: '2', after: 'd' });
    assert.deepEqual(ids(last), ['e']);
    assert.equal(last.has_more, false);
    assert.deepEqual(ids(inputItemsPage(items, { after: 'c' })), ['b', 'a']);
  });

  it('refuses a limit, order or cursor it cannot honour, naming the parameter', () => {
    for (const [query, param] of [
      [{ limit: '0' }, 'limit'],
      [{ limit: '101' }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ order: 'newest' }, 'order'],
      [{ after: 'zzz' }, 'after'],
    ] as const) {
      assert.throws(
        () => inputItemsPage(items, query),
        (error: unknown) => error instanceof DataPlaneError && error.param === param,
      );
    }
  });
});

describe('retrieving a stored response', () => {
  const record = storedRecord('resp_1', 'alice');

  it('answers the stored Response as JSON', () => {
    refuseStreamedRetrieval({});
    refuseStreamedRetrieval({ stream: 'false' });
    assert.equal(retrievedResponse(record, {}).id, 'resp_1');
  });

  it('refuses stream=true, naming it: the SDK would read the JSON as an empty event stream', () => {
    assert.throws(
      () => refuseStreamedRetrieval({ stream: 'true' }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'stream' &&
        /background/.test(error.message),
    );
  });
});
