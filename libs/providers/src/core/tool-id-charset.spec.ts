import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toolIdInCharset } from './tool-id-charset';

describe('a tool call id in the charset Claude takes', () => {
  it('keeps an id that fits as it is', () => {
    assert.equal(toolIdInCharset('toolu_01A-b'), 'toolu_01A-b');
    assert.equal(toolIdInCharset('x'.repeat(64), 64), 'x'.repeat(64));
  });

  it('rewrites one of other characters the same way each time, and two apart', () => {
    const kimi = toolIdInCharset('functions.get_weather:0');
    assert.match(kimi, /^functions_get_weather_0_[0-9a-f]{12}$/);
    assert.equal(toolIdInCharset('functions.get_weather:0'), kimi);
    assert.notEqual(toolIdInCharset('functions.get_weather:1'), kimi);
    assert.notEqual(toolIdInCharset('a.b'), toolIdInCharset('a:b'));
    assert.match(toolIdInCharset(''), /^_[0-9a-f]{12}$/);
  });

  it('shortens one over the length, keeping two that share a start apart', () => {
    const long = `call_${'x'.repeat(70)}`;
    const short = toolIdInCharset(long, 64);
    assert.equal(short.length, 64);
    assert.match(short, /^[a-zA-Z0-9_-]+$/);
    assert.notEqual(toolIdInCharset(`${long}y`, 64), short);
    // Without a length, an id of the charset is never cut.
    assert.equal(toolIdInCharset(long), long);
  });
});
