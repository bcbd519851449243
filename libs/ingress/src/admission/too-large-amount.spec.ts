// The 400 for a request larger than a whole window says what it may cost. Dollars come from
// float sums of per-token prices; the message shows them to the micro-dollar, rounded up so
// the amount shown is never below the limit it is said to exceed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { admissionOn, ask } from './admission-fixture';

const BACKENDS = '    - {name: b, provider: openai, model: chat}';

async function messageOf(policy: string, maxTokens: number): Promise<string> {
  const { admission } = admissionOn(BACKENDS, policy);
  const error = await admission.admit(ask('u', maxTokens)).then(
    () => assert.fail('admitted a request larger than the window'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DataPlaneError);
  assert.equal(error.httpStatus, 400);
  return error.message;
}

describe('the 400 for a request larger than a whole window', () => {
  it('shows a dollar amount to the micro-dollar, never below the exact sum', async () => {
    const message = await messageOf(
      `  costControl:
    maxDailyCostPerUser: 1
    modelPricing: {chat: {inputPer1k: 0.15, outputPer1k: 0.6}}`,
      4096,
    );
    const shown = /may cost up to (\S+) dollars/.exec(message)?.[1];
    assert.match(shown ?? '', /^\d+(\.\d{1,6})?$/, message);
    // 4096 output tokens at $0.0006 each, plus a prompt of a few tokens at $0.00015.
    assert.ok(Number(shown) > 4096 * 0.0006 && Number(shown) < 2.47, message);
    assert.match(message, /costControl\.maxDailyCostPerUser allows in a whole window \(1\)/);
  });

  it('shows a token amount as the whole number it is', async () => {
    const message = await messageOf('  tokenBudget: {perMinute: {limit: 300}}', 400);
    assert.match(message, /may cost up to \d+ tokens/);
  });
});
