import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryAfterOf,
  scrubbedUpstreamText,
} from './upstream-failure';

test('Retry-After in seconds or as an HTTP date, never negative, at most a day', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7_000);
  assert.equal(parseRetryAfter(['2', '9'], now), 2_000);
  assert.equal(parseRetryAfter('Thu, 03 Dec 2026 12:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Thu, 03 Dec 2026 11:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('-5', now), 0);
  assert.equal(parseRetryAfter('999999999', now), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now), MAX_RETRY_AFTER_MS);
  for (const junk of [undefined, '', 'soon']) assert.equal(parseRetryAfter(junk, now), undefined);
});

test("a provider's text loses key-like strings and its length past 500 characters", () => {
  assert.equal(
    scrubbedUpstreamText('Invalid key sk-proj-abcdefgh12345678 or AIzaSyA1234567890abc.'),
    'Invalid key [REDACTED] or [REDACTED].',
  );
  assert.equal(scrubbedUpstreamText('x'.repeat(10_000)).length, 500);
  assert.equal(scrubbedUpstreamText('Too many tokens.'), 'Too many tokens.');
});

test('retryAfterOf prefers OpenAI and Azure retry-after-ms to the whole seconds of Retry-After', () => {
  assert.equal(retryAfterOf({ 'retry-after-ms': '250', 'retry-after': '1' }), 250);
  assert.equal(retryAfterOf({ 'retry-after-ms': '1500.5' }), 1500.5);
  assert.equal(retryAfterOf({ 'retry-after-ms': '-3' }), 0);
  assert.equal(retryAfterOf({ 'retry-after-ms': '999999999999' }), MAX_RETRY_AFTER_MS);
  assert.equal(retryAfterOf({ 'retry-after-ms': 'soon', 'retry-after': '2' }), 2_000);
  assert.equal(retryAfterOf({ 'retry-after-ms': '', 'retry-after': '3' }), 3_000);
  assert.equal(retryAfterOf({ 'retry-after-ms': ['40', '90'] }), 40);
  assert.equal(retryAfterOf({}), undefined);
});
