import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractsErrorCode } from '../contracts.errors';
import { Topic } from '../topics';
import {
  BudgetAdjustmentAction,
  MAX_ADJUSTMENT_REASON_LENGTH,
  MAX_OPERATOR_LENGTH,
} from './budget-adjusted.event';
import { decodeEvent, encodeEvent } from './event-codec';
import { LimitKind } from './event-enums';
import { createBudgetAdjusted } from './event-factories';

const reset = () =>
  createBudgetAdjusted({
    partitionKey: 'alice',
    userKey: 'alice',
    action: BudgetAdjustmentAction.Reset,
    reason: 'runaway script',
  });

/** The JSON of a valid reset with `changes` applied (undefined deletes a field). */
function wire(changes: Record<string, unknown>): string {
  const body: Record<string, unknown> = JSON.parse(JSON.stringify(reset()));
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete body[key];
    else body[key] = value;
  }
  return JSON.stringify(body);
}

function problems(json: string): string {
  const decoded = decodeEvent(Topic.BudgetAdjusted, json);
  assert.equal(decoded.ok, false, `accepted: ${json}`);
  if (decoded.ok) return '';
  assert.equal(decoded.error.code, ContractsErrorCode.InvalidPayload);
  return decoded.error.message;
}

describe('budget.adjusted event', () => {
  it('goes on its own topic, keyed by the user, and round-trips', () => {
    const event = createBudgetAdjusted({
      partitionKey: 'alice',
      userKey: 'alice',
      limitKind: LimitKind.TokenBudgetPerUser,
      action: BudgetAdjustmentAction.Credit,
      amount: 1500,
    });
    const encoded = encodeEvent(event, { validate: true });
    assert.equal(encoded.topic, Topic.BudgetAdjusted);
    assert.equal(encoded.key, 'alice');
    const decoded = decodeEvent(Topic.BudgetAdjusted, encoded.value);
    assert.ok(decoded.ok);
    assert.deepEqual({ ...decoded.value }, { ...event });
  });

  it('takes a reset of every limit (no kind) and of one', () => {
    assert.ok(decodeEvent(Topic.BudgetAdjusted, wire({})).ok);
    assert.ok(decodeEvent(Topic.BudgetAdjusted, wire({ reason: undefined })).ok);
    const one = decodeEvent(
      Topic.BudgetAdjusted,
      wire({ limitKind: LimitKind.MaxDailyCostPerUser }),
    );
    assert.ok(one.ok);
    assert.equal(one.value.limitKind, LimitKind.MaxDailyCostPerUser);
  });

  it('refuses a limit kind that is not a user limit', () => {
    assert.match(problems(wire({ limitKind: LimitKind.ModelTokensPerMinute })), /limitKind/);
    assert.match(problems(wire({ limitKind: 'tokenBudget.perWeek' })), /limitKind/);
  });

  it('needs a kind and a finite positive amount for a credit, and no amount for a reset', () => {
    const credit = { action: 'credit', limitKind: LimitKind.TokenBudgetPerUser };
    assert.ok(decodeEvent(Topic.BudgetAdjusted, wire({ ...credit, amount: 0.5 })).ok);
    assert.match(problems(wire({ action: 'credit', amount: 10 })), /limitKind/);
    assert.match(problems(wire(credit)), /amount/);
    for (const amount of [0, -5, '10', 1e400]) {
      assert.match(problems(wire({ ...credit, amount })), /amount/, String(amount));
    }
    assert.match(problems(wire({ amount: 10 })), /amount/);
    assert.match(problems(wire({ action: 'refund' })), /action/);
  });

  it('bounds the reason', () => {
    const longest = 'x'.repeat(MAX_ADJUSTMENT_REASON_LENGTH);
    assert.ok(decodeEvent(Topic.BudgetAdjusted, wire({ reason: longest })).ok);
    assert.match(problems(wire({ reason: `${longest}x` })), /reason/);
  });

  it('carries an optional operator, a short printable name, across the wire', () => {
    const named = createBudgetAdjusted({
      partitionKey: 'alice',
      userKey: 'alice',
      action: BudgetAdjustmentAction.Reset,
      operator: 'sre-oncall',
    });
    const decoded = decodeEvent(Topic.BudgetAdjusted, encodeEvent(named, { validate: true }).value);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.operator, 'sre-oncall');
    assert.deepEqual({ ...decoded.value }, { ...named });
    assert.ok(
      decodeEvent(Topic.BudgetAdjusted, wire({ operator: 'o'.repeat(MAX_OPERATOR_LENGTH) })).ok,
    );
    for (const operator of ['', 'a\nb', 5, 'o'.repeat(MAX_OPERATOR_LENGTH + 1)]) {
      assert.match(problems(wire({ operator })), /operator/, JSON.stringify(operator));
    }
  });

  it('is refused on the usage topic, whose consumers read only usage', () => {
    const decoded = decodeEvent(Topic.UsageRecorded, JSON.stringify(reset()));
    assert.equal(decoded.ok, false);
    if (!decoded.ok) assert.equal(decoded.error.code, ContractsErrorCode.TypeMismatch);
  });
});
