// A request asking for OpenAI's priority tier was held at the standard price, though it is
// billed at up to twice that (gpt-5: $2.50/$20 per 1M tokens against $1.25/$10): a dollar
// cap let through a call that settled past it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import { admissionOn, ask, refusalOf } from './admission-fixture';

const BACKENDS = '    - {name: b, provider: openai, model: chat}';
/** $10 per 1M output tokens, priority at twice, flex at half; 1,000 output tokens = $0.01. */
const POLICY = `  costControl:
    maxDailyCostPerUser: 0.015
    modelPricing:
      chat: {inputPer1k: 0, outputPer1k: 0.01, serviceTierFactors: {priority: 2, flex: 0.5}}`;

function onTier(userKey: string, tier: string): GatewayRequest {
  const request = ask(userKey, 1000);
  return { ...request, body: { ...request.body, service_tier: tier } };
}

describe('the budget hold of a request asking for a service tier', () => {
  it('holds a priority request at the priority price', async () => {
    const { admission } = admissionOn(BACKENDS, POLICY);
    // $0.01 at the standard price fits the $0.015 cap; $0.02 at priority does not.
    await admission.admit(onTier('standard', 'default'));
    const error = await refusalOf(admission.admit(onTier('priority', 'priority')));
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, /may cost up to 0\.02 /);
    assert.match(error.message, /costControl\.maxDailyCostPerUser/);
  });

  it('holds flex at its price and auto at the standard one', async () => {
    const { admission } = admissionOn(
      BACKENDS,
      POLICY.replace('maxDailyCostPerUser: 0.015', 'maxDailyCostPerUser: 0.006'),
    );
    // $0.005 at flex fits a $0.006 cap; auto (the project's default decides) is held at $0.01.
    await admission.admit(onTier('flex', 'flex'));
    const error = await refusalOf(admission.admit(onTier('auto', 'auto')));
    assert.equal(error.httpStatus, 400);
  });
});
