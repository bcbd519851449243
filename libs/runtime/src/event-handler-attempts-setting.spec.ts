import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventHandlerAttempts } from './event-handler-attempts-setting';

test('AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: 5 when unset, the number when whole and in 1..100', () => {
  assert.equal(eventHandlerAttempts({}), 5);
  assert.equal(eventHandlerAttempts({ AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: ' ' }), 5);
  assert.equal(eventHandlerAttempts({ AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: '1' }), 1);
  assert.equal(eventHandlerAttempts({ AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: '12' }), 12);
  for (const bad of ['0', '-3', '2.5', '101', 'many']) {
    assert.throws(
      () => eventHandlerAttempts({ AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: bad }),
      new RegExp(
        `AI_GATEWAY_EVENT_HANDLER_ATTEMPTS must be a whole number from 1 to 100, got "${bad.replace('.', '\\.')}"`,
      ),
    );
  }
});
