import { impliedBudgetKey } from '@aigw/budget-core';
import { routeForModel, type GatewayConfig } from '@aigw/config';
import type { HeldRecord } from './held-objects';

/**
 * The budget a batch of `owner`'s on `model` is checked, held and billed in when its record
 * names only a user id: impliedBudgetKey on the batch's route (`header:x-user-id:alice` where
 * the configuration identifies users more than one way, `alice` otherwise), the key the
 * budget settler charges a batch bill naming only its owner to. A check or hold of the bare
 * id would miss the owner's spend and share one balance among every identification's `alice`.
 */
export function batchBudgetKey(config: GatewayConfig, model: string, owner: string): string {
  const route = routeForModel(config, model);
  return route ? impliedBudgetKey(config, route, owner) : owner;
}

/** What a batch's budget is read from: its owner (and user id apart), and its model. */
export type BudgetedRecord = Pick<HeldRecord, 'owner' | 'userId' | 'model'>;

/**
 * The budget a batch (or its input file) is held and billed in. A record whose owner key is
 * qualified (its user id kept apart) is owned under its caller's budget key: that key, which
 * tells two identifications' `alice` apart even on one route identifying users both ways
 * (two JWT providers), where batchBudgetKey cannot say which was used. Otherwise (users
 * identified one way, anonymous, records stored before owners were qualified) its owner is
 * the user id, and batchBudgetKey of it.
 */
export function recordBudgetKey(config: GatewayConfig, record: BudgetedRecord): string {
  if (record.userId !== undefined && record.userId !== record.owner) return record.owner;
  return batchBudgetKey(config, record.model, record.owner);
}
