// A batch's budget is its record's: the qualified owner key where the record carries one,
// else the budget a bill naming only its user id is charged to (batchBudgetKey).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchBudgetKey, recordBudgetKey } from './batch-budget-key';
import { batchUsageEvent } from './batch-settlement';
import { heldOnBatchRoute } from './testing/held-record';
import {
  KEYED_ROUTE_YAML,
  oneBatchRoute,
  parsedConfig,
  PRICED_BATCH_ROUTE_YAML,
} from './testing/one-batch-route';
import { oneRequestUsage } from './testing/one-request-usage';

const jwtProvider = (name: string) => `    - name: ${name}
      issuer: https://auth.${name}.test
      audiences: [ai-gateway]
      remoteJWKS: {uri: "https://auth.${name}.test/jwks"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}`;

/** One route identifying users two ways: two JWT providers both setting x-user-id from sub. */
const twoProviders = parsedConfig(`${PRICED_BATCH_ROUTE_YAML}---
kind: SecurityPolicy
metadata: {name: two-issuers}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: batches}]
  jwt:
    providers:
${jwtProvider('corp')}
${jwtProvider('partner')}
`);

/** The batch route identifies users one way, another route another way. */
const twoRoutes = parsedConfig(`${PRICED_BATCH_ROUTE_YAML}${KEYED_ROUTE_YAML}`);

const CORP_ALICE = 'jwt:corp:sub:alice';
const PARTNER_ALICE = 'jwt:partner:sub:alice';
const NOW = Date.UTC(2026, 11, 6, 1);
const owned = (owner: string, userId?: string) => ({
  ...heldOnBatchRoute('batch', 'b1', NOW),
  owner,
  ...(userId !== undefined && { userId }),
});

describe('recordBudgetKey', () => {
  it("tells two providers' alice apart on one route, where batchBudgetKey cannot", () => {
    // The route cannot say which way alice was identified: the bare id, shared.
    assert.equal(batchBudgetKey(twoProviders, 'gpt-batch', 'alice'), 'alice');
    assert.equal(recordBudgetKey(twoProviders, owned(CORP_ALICE, 'alice')), CORP_ALICE);
    assert.equal(recordBudgetKey(twoProviders, owned(PARTNER_ALICE, 'alice')), PARTNER_ALICE);
  });

  it('reads a record naming only a user id as batchBudgetKey of it', () => {
    // Stored before owners were qualified: the bare id there, as its bill was charged.
    assert.equal(recordBudgetKey(twoProviders, owned('alice')), 'alice');
    // One identification on the batch's route: qualified by it.
    assert.equal(recordBudgetKey(twoRoutes, owned('alice')), 'header:x-user-id:alice');
    // An owner key equal to its user id is a user id.
    assert.equal(recordBudgetKey(twoRoutes, owned('alice', 'alice')), 'header:x-user-id:alice');
    // Users identified one way, and anonymous: the id itself.
    assert.equal(recordBudgetKey(oneBatchRoute(), owned('alice')), 'alice');
    assert.equal(recordBudgetKey(twoRoutes, owned('anonymous')), 'anonymous');
  });

  it('never qualifies a qualified owner key twice', () => {
    const header = 'header:x-user-id:alice';
    assert.equal(recordBudgetKey(twoRoutes, owned(header, 'alice')), header);
  });
});

describe("a batch's bill on a route identifying users two ways", () => {
  const usage = oneRequestUsage();

  it("names the bare user id and charges its owner's qualified budget", () => {
    const corp = batchUsageEvent(twoProviders, owned(CORP_ALICE, 'alice'), usage, 0.5).event;
    assert.equal(corp.userId, 'alice');
    assert.equal(corp.budgetKey, CORP_ALICE);
    assert.equal(corp.partitionKey, CORP_ALICE);
    const partner = batchUsageEvent(twoProviders, owned(PARTNER_ALICE, 'alice'), usage, 0.5).event;
    assert.equal(partner.budgetKey, PARTNER_ALICE);
  });

  it('leaves the budget key out where it is the user id', () => {
    const old = batchUsageEvent(twoProviders, owned('alice'), usage, 0.5).event;
    assert.equal(old.userId, 'alice');
    assert.equal(old.budgetKey, undefined);
    assert.equal(old.partitionKey, 'alice');
  });
});
