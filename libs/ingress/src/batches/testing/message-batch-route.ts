import type { GatewayConfig } from '@aigw/config';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { gatewayId } from '../gateway-ids';
import type { HeldRecord } from '../held-objects';
import { parsedConfig } from './one-batch-route';

/**
 * For the message batch specs: the route `claude` with one Anthropic backend (at an address
 * nothing answers on, the spec's calls object stands in for it) serving its model `up` as
 * `claude-batch`. It ends in the backends list: a spec may add the route's settings.
 */
export const MESSAGE_BATCH_ROUTE_YAML = `kind: AIGatewayRoute
metadata: {name: claude}
spec:
  backends:
  - {name: claude-batch, provider: anthropic, baseUrl: "http://127.0.0.1:9", model: up, modelNameOverride: claude-batch}
`;

/** MESSAGE_BATCH_ROUTE_YAML alone. */
export function messageBatchRoute(): GatewayConfig {
  return parsedConfig(MESSAGE_BATCH_ROUTE_YAML);
}

/**
 * For the message batch specs: what the gateway holds for alice's message batch
 * `providerId` on messageBatchRoute()'s backend; `object` adds to the held object past its
 * gateway id, `extra` to the record.
 */
export function heldMessageBatch(
  providerId: string,
  object: JsonObject = {},
  extra: Partial<HeldRecord> = {},
): HeldRecord {
  const id = gatewayId('message_batch', { route: 'claude', backend: 'claude-batch', providerId });
  return {
    id,
    kind: 'message_batch',
    owner: 'alice',
    model: 'claude-batch',
    upstreamModel: 'up',
    route: 'claude',
    backend: 'claude-batch',
    provider: 'anthropic',
    providerId,
    createdAt: Date.now(),
    object: { id, ...object },
    ...extra,
  };
}
