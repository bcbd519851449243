import type { JsonObject } from '@aigw/contracts/data-plane';
import { gatewayId, type HeldKind } from '../gateway-ids';
import type { HeldRecord } from '../held-objects';

/**
 * For the batches specs: what the gateway holds for alice's `kind` `providerId` on
 * oneBatchRoute()'s backend; `object` adds to the held object past its gateway id.
 */
export function heldOnBatchRoute(
  kind: HeldKind,
  providerId: string,
  createdAt: number,
  more: { object?: JsonObject; estimate?: HeldRecord['estimate'] } = {},
): HeldRecord {
  const id = gatewayId(kind, { route: 'batches', backend: 'openai-batch', providerId });
  return {
    id,
    kind,
    owner: 'alice',
    model: 'gpt-batch',
    upstreamModel: 'up',
    route: 'batches',
    backend: 'openai-batch',
    provider: 'openai',
    providerId,
    createdAt,
    ...(more.estimate && { estimate: more.estimate }),
    object: { id, ...more.object },
  };
}
