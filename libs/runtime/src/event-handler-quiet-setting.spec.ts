import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventHandlerQuietAfterMs, poisonRuleOptions } from './event-handler-quiet-setting';
import { StartupError } from './listen';

const SETTING = 'AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS';

test(`${SETTING}: 10 minutes when unset, the seconds in ms when whole and in 0..86400`, () => {
  assert.equal(eventHandlerQuietAfterMs({}), 600_000);
  assert.equal(eventHandlerQuietAfterMs({ [SETTING]: ' ' }), 600_000);
  assert.equal(eventHandlerQuietAfterMs({ [SETTING]: '0' }), 0);
  assert.equal(eventHandlerQuietAfterMs({ [SETTING]: ' 90 ' }), 90_000);
  assert.equal(eventHandlerQuietAfterMs({ [SETTING]: '86400' }), 86_400_000);
});

test(`${SETTING}: anything else stops the start, naming the setting and the value`, () => {
  for (const bad of ['-1', '2.5', '86401', '10m', 'soon']) {
    assert.throws(
      () => eventHandlerQuietAfterMs({ [SETTING]: bad }),
      (error: unknown) =>
        error instanceof StartupError &&
        error.message ===
          `${SETTING} must be a whole number of seconds from 0 to 86400, got "${bad}"`,
    );
  }
});

test('both poison rules are read together, each checked', () => {
  assert.deepEqual(poisonRuleOptions({}), { handlerAttempts: 5, quietTopicAfterMs: 600_000 });
  assert.deepEqual(poisonRuleOptions({ AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: '3', [SETTING]: '30' }), {
    handlerAttempts: 3,
    quietTopicAfterMs: 30_000,
  });
  assert.throws(
    () => poisonRuleOptions({ AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: '0' }),
    /AI_GATEWAY_EVENT_HANDLER_ATTEMPTS must be a whole number/,
  );
  assert.throws(() => poisonRuleOptions({ [SETTING]: 'x' }), new RegExp(`${SETTING} must be`));
});
