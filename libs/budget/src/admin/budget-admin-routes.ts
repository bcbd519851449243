import { BudgetAdjustmentAction, createBudgetAdjusted, type EventPublisher } from '@aigw/contracts';
import { budgetsNamed } from '@aigw/budget-core';
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '@aigw/config';
import type { MetricsRegistry } from '@aigw/observability';
import {
  adminNotFound,
  invalidAdminRequest,
  type AdminReply,
  type AdminRoute,
} from '@aigw/runtime';
import { adjustableLimits, everyAdjustableLimitClosed } from '../adjustable-limits';
import { parseBudgetAdjustment } from './budget-adjustment.dto';
import { idempotencyKeyOf, idempotentEventId } from './idempotency-key';

/**
 * `POST /admin/budgets/{userKey}/reset` and `.../credit` on the admin port: each publishes
 * one `budget.adjusted` event for the budget service to apply (202 with its id), or
 * answers 400 naming every problem of the request, 404 when the configuration in force
 * gives the user no such limit (nothing to give back), or 409 when every limit it names is
 * 0 (it allows nothing, whatever is given back). Nothing is applied here.
 */
export function budgetAdminRoutes(
  events: EventPublisher,
  config: () => GatewayConfig,
  metrics: Pick<MetricsRegistry, 'recordBudgetAdjustment'>,
): AdminRoute[] {
  return Object.values(BudgetAdjustmentAction).map((action): AdminRoute => ({
    method: 'POST',
    path: new RegExp(`^/admin/budgets/([^/]+)/${action}$`),
    handle: async ({ params, body, headers }) =>
      adjust(events, config, metrics, action, params[0], body, headers),
  }));
}

async function adjust(
  events: EventPublisher,
  config: () => GatewayConfig,
  metrics: Pick<MetricsRegistry, 'recordBudgetAdjustment'>,
  action: BudgetAdjustmentAction,
  userKey: string,
  body: unknown,
  headers: IncomingHttpHeaders,
): Promise<AdminReply> {
  const idempotency = idempotencyKeyOf(headers);
  if (!idempotency.ok) {
    return invalidAdminRequest([{ message: idempotency.message }]);
  }
  const parsed = parseBudgetAdjustment(userKey, action, body);
  if (!parsed.ok) {
    // Several checks of one field may share a message: say it once.
    const issues = [...new Map(parsed.issues.map((i) => [`${i.path}\n${i.message}`, i])).values()];
    return invalidAdminRequest(issues);
  }
  const request = parsed.value;
  // The budget service binds the limits again when it applies the event (the config may
  // be reloaded between); this only spares an operator a 202 that can change nothing.
  const now = Date.now();
  if (adjustableLimits(config(), request.userKey, request.limitKind, now).length === 0) {
    const what = request.limitKind ?? 'budget limit';
    return adminNotFound(
      `no route configures a ${what} for ${request.userKey}: nothing to give back`,
    );
  }
  // A limit of 0 refuses every call whatever its balance: a 202 would change nothing.
  if (everyAdjustableLimitClosed(config(), request.userKey, request.limitKind, now)) {
    metrics.recordBudgetAdjustment({
      action,
      limit: request.limitKind ?? 'all',
      outcome: 'limit_closed',
    });
    return limitClosed(request.userKey, request.limitKind, action);
  }
  // A retry of a request (its answer lost to a timeout, say) names the same event, which
  // the budget service applies once: the credit is not given twice.
  const eventId =
    idempotency.key === undefined
      ? undefined
      : idempotentEventId(idempotency.key, [
          request.userKey,
          action,
          request.limitKind ?? null,
          request.amount ?? null,
        ]);
  const event = createBudgetAdjusted(
    { partitionKey: request.userKey, ...request },
    eventId === undefined ? {} : { eventId },
  );
  events.publish(event);
  // Where users are identified more than one way, the keys the name stands for (a plain id
  // is the id's budget under each identification): the operator sees what is adjusted.
  const budgets = budgetsNamed(config(), request.userKey).map((budget) => budget.budgetKey);
  const qualified = budgets.length !== 1 || budgets[0] !== request.userKey;
  return {
    status: 202,
    body: {
      eventId: event.eventId,
      userKey: event.userKey,
      ...(qualified ? { budgetKeys: budgets } : {}),
      action: event.action,
      limit: event.limitKind ?? 'all',
      ...(event.amount === undefined ? {} : { amount: event.amount }),
      ...(event.operator === undefined ? {} : { operator: event.operator }),
    },
  };
}

/**
 * An adjustment's 409 in the admin API's error shape: every limit it names is 0, which
 * allows nothing, so giving spend back cannot let a call through; raising the limit can.
 */
function limitClosed(
  userKey: string,
  kind: string | undefined,
  action: BudgetAdjustmentAction,
): AdminReply {
  const what = kind === undefined ? 'every budget limit' : `the ${kind} limit`;
  const message =
    `${what} of ${userKey} is 0 wherever it is configured: a limit of 0 allows nothing, so a ` +
    `${action} gives nothing back; raise the limit in the configuration instead`;
  return { status: 409, body: { error: { type: 'limit_closed', message } } };
}
