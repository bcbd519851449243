import { impliedBudgetKey } from '@aigw/budget-core';
import { routeForModel, type GatewayConfig } from '@aigw/config';

/**
 * The budget a batch of `owner`'s on `model` is checked, held and billed in: impliedBudgetKey
 * on the batch's route (`header:x-user-id:alice` where the configuration identifies users
 * more than one way, `alice` otherwise), the key the budget settler charges a batch bill
 * naming only its owner to. A check or hold of the bare id would miss the owner's spend and
 * share one balance among every identification's `alice`.
 */
export function batchBudgetKey(config: GatewayConfig, model: string, owner: string): string {
  const route = routeForModel(config, model);
  return route ? impliedBudgetKey(config, route, owner) : owner;
}
