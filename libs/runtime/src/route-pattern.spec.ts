import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routePatternMatcher } from './route-pattern';

describe('routePatternMatcher', () => {
  it('matches a parameter as one segment, a star as the rest, the rest literally', () => {
    const files = routePatternMatcher('/v1/files/:id/content');
    assert.ok(files.test('/v1/files/file-1/content'));
    assert.ok(!files.test('/v1/files/a/b/content'));
    assert.ok(!files.test('/v1/files/file-1/content/x'));
    const any = routePatternMatcher('/v1beta/*');
    assert.ok(any.test('/v1beta/models/gemini:generateContent'));
    assert.ok(!any.test('/v1beta/'));
    // Regex characters in a literal segment are literal.
    assert.ok(routePatternMatcher('/a.b').test('/a.b'));
    assert.ok(!routePatternMatcher('/a.b').test('/axb'));
  });
});
