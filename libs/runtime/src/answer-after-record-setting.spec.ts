import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { answerAfterRecord } from './answer-after-record-setting';
import { StartupError } from './listen';

describe('AI_GATEWAY_ANSWER_AFTER_RECORD', () => {
  it('is off unless set to on', () => {
    assert.equal(answerAfterRecord({}), false);
    assert.equal(answerAfterRecord({ AI_GATEWAY_ANSWER_AFTER_RECORD: '' }), false);
    assert.equal(answerAfterRecord({ AI_GATEWAY_ANSWER_AFTER_RECORD: 'off' }), false);
    assert.equal(answerAfterRecord({ AI_GATEWAY_ANSWER_AFTER_RECORD: ' ON ' }), true);
  });

  it('stops the start on anything else, naming the value', () => {
    assert.throws(
      () => answerAfterRecord({ AI_GATEWAY_ANSWER_AFTER_RECORD: 'true' }),
      (error: unknown) =>
        error instanceof StartupError &&
        error.message === 'AI_GATEWAY_ANSWER_AFTER_RECORD must be "on" or "off", got "true"',
    );
  });
});
