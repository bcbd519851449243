import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_EVENT_DEPTH, nestsTooDeep } from './event-depth';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('nestsTooDeep', () => {
  it('takes events up to the bound, and refuses one a level deeper', () => {
    const event = (depth: number) => `{"type":"session.update","session":${nested(depth - 1)}}`;
    assert.equal(nestsTooDeep(event(MAX_EVENT_DEPTH)), false);
    assert.equal(nestsTooDeep(event(MAX_EVENT_DEPTH + 1)), true);
  });

  it('counts no bracket inside a string, escaped quotes included', () => {
    const text = `{"type":"conversation.item.create","text":"\\"${'['.repeat(500)}"}`;
    assert.equal(nestsTooDeep(text), false);
    assert.equal(nestsTooDeep(`{"a":"\\\\",${nested(200)}}`.replace(',', ',"b":')), true);
  });

  it('passes many brackets side by side, as a long list of tools has them', () => {
    const tools = Array.from({ length: 300 }, () => '{"type":"function","parameters":{}}');
    assert.equal(nestsTooDeep(`{"session":{"tools":[${tools.join(',')}]}}`), false);
  });
});
