import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { parseClientSecretRequest } from './client-secret-request';

/** The 400 a body gets: its param and OpenAI code. */
function refusal(body: unknown): { status: number; param: string | null; code: string } {
  try {
    parseClientSecretRequest(body);
  } catch (error) {
    assert.ok(error instanceof DataPlaneError);
    const { param, code } = error.toOpenAiBody().error;
    return { status: error.httpStatus, param, code };
  }
  assert.fail('accepted');
}

describe('parseClientSecretRequest', () => {
  it('defaults to 600 s and sets the session type and model', () => {
    const asked = parseClientSecretRequest({ session: { model: 'voice', instructions: 'hi' } });
    assert.deepEqual(asked, {
      model: 'voice',
      seconds: 600,
      session: { model: 'voice', instructions: 'hi', type: 'realtime' },
    });
  });

  it('takes seconds from 10 to 7200 anchored at created_at', () => {
    for (const seconds of [10, 7200]) {
      const asked = parseClientSecretRequest({
        expires_after: { anchor: 'created_at', seconds },
        session: { type: 'realtime', model: 'voice' },
      });
      assert.equal(asked.seconds, seconds);
    }
  });

  it('refuses what OpenAI refuses, naming the field and its code', () => {
    const session = { model: 'voice' };
    const cases: [unknown, string | null, string][] = [
      [[], null, 'invalid_type'],
      [{ session, expires_after: 60 }, 'expires_after', 'invalid_type'],
      [{ session, expires_after: { anchor: 'now' } }, 'expires_after.anchor', 'invalid_value'],
      [
        { session, expires_after: { seconds: 9 } },
        'expires_after.seconds',
        'integer_below_min_value',
      ],
      [
        { session, expires_after: { seconds: 7201 } },
        'expires_after.seconds',
        'integer_above_max_value',
      ],
      [{ session, expires_after: { seconds: 60.5 } }, 'expires_after.seconds', 'invalid_type'],
      [{ session, expires_after: { seconds: '60' } }, 'expires_after.seconds', 'invalid_type'],
      [{ session: 'voice' }, 'session', 'invalid_type'],
      [{}, 'session.model', 'missing_required_parameter'],
      [{ session: { model: 3 } }, 'session.model', 'invalid_type'],
      [{ session: { type: 'transcription', model: 'voice' } }, 'session.type', 'invalid_value'],
      [{ session: { type: 'other', model: 'voice' } }, 'session.type', 'invalid_value'],
    ];
    for (const [body, param, code] of cases) {
      assert.deepEqual(refusal(body), { status: 400, param, code }, JSON.stringify(body));
    }
  });
});
