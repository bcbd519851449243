// The all-in-one gateway's durable record, alone: CPU per request of the embedded event
// bus (the SQLite log append), the usage sink's analytics rows and the budget settler's
// ledger, each over a file-backed SQLite database in a temp dir, as the gateway wires them.
//
//   node_modules/.bin/node --require @swc-node/register bench/micro/record.ts [requests]
//
// RECORD_BURST (requests per flush, default 167) and RECORD_MAX_BATCH (the bus's maxBatch,
// default 500 as the gateway sets it) try other batch shapes.
//
// Each request publishes the 3 events of a successful chat request (request.accepted,
// usage.recorded, request.completed), built with the real factories. Requests arrive in
// bursts of BURST (at ~6000 req/s the bus's 500-event maxBatch cuts a flush every ~28 ms,
// before its 50 ms timer), so each flush sees the batches the gateway's does. CPU is
// process.cpuUsage() (user + sys, every thread: the WAL checkpoint worker included), split
// into publishing (building events is not counted; serializing them is) and the flushes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BudgetSettler } from '@aigw/budget';
import { LocalBudgetStore } from '@aigw/budget-core';
import { parseGatewayConfig } from '@aigw/config';
import {
  CompletionStatus,
  createRequestAccepted,
  createRequestCompleted,
  type GatewayEvent,
} from '@aigw/contracts';
import { usageRecordedEvent } from '@aigw/contracts/data-plane';
import { EmbeddedEventBus, SqliteEventLog } from '@aigw/embedded';
import { MetricsRegistry } from '@aigw/observability';
import { SqliteUsageStore, UsageSinkConsumer } from '@aigw/usage-sink';

const REQUESTS = Number(process.argv[2] ?? 60_000);
const WARMUP = Math.min(20_000, REQUESTS);
/** Requests per flush: maxBatch 500 events / 3 per request. */
const BURST = Number(process.env.RECORD_BURST ?? 167);

function loadConfig() {
  const text = readFileSync('bench/config/gateway.yaml', 'utf8').replaceAll(
    '__UPSTREAM_BASE_URL__',
    'http://127.0.0.1:9/v1',
  );
  const result = parseGatewayConfig(text, { missingSecrets: 'warn', env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

function requestEvents(n: number): GatewayEvent[] {
  const requestId = `req-${n.toString(16).padStart(12, '0')}`;
  const caller = { userKey: 'bench-user', tier: undefined };
  const request = {
    requestId,
    caller,
    requestedModel: 'gpt-4o-mini',
    reservationId: `res-${requestId}`,
    operation: 'chat',
  };
  const servedBy = { provider: 'vllm', backend: 'primary', model: 'bench-model', attempts: 1 };
  const common = { requestId, partitionKey: 'bench-user', userId: 'bench-user' };
  return [
    createRequestAccepted({
      ...common,
      endpoint: 'chat',
      modelRequested: 'gpt-4o-mini',
      stream: false,
      reservationId: request.reservationId,
      reservedTokens: 1064,
      estimatedInputTokens: 40,
    } as never),
    usageRecordedEvent(
      request as never,
      servedBy,
      { inputTokens: 40, outputTokens: 12, cachedInputTokens: 0, source: 'reported' } as never,
      { weightedTokens: 76, dollars: 0.0000132 },
      false,
    ),
    createRequestCompleted({
      ...common,
      endpoint: 'chat',
      status: CompletionStatus.Success,
      httpStatus: 200,
      latencyMs: 1.234,
      provider: 'vllm',
      backend: 'primary',
      modelRequested: 'gpt-4o-mini',
      modelServed: 'bench-model',
      stream: false,
      cached: false,
      attempts: 1,
    } as never),
  ];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-record-'));
  const config = loadConfig();
  const log = new SqliteEventLog(join(dir, 'gateway-events.db'));
  const bus = new EmbeddedEventBus(log, {
    flushIntervalMs: 50,
    maxBatch: Number(process.env.RECORD_MAX_BATCH ?? 500),
    onError: (error, group) => {
      console.error(group, error);
      process.exit(1);
    },
    onWriteError: (error) => {
      console.error(error);
      process.exit(1);
    },
  });
  const analytics = new SqliteUsageStore(join(dir, 'analytics.db'));
  const sink = new UsageSinkConsumer(analytics, { maxItems: 1000, maxWaitMs: 0 });
  const budget = new LocalBudgetStore(join(dir, 'budget.db'));
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const settler = new BudgetSettler(() => config, budget, bus, metrics, undefined, undefined, {
    remainingIntervalMs: 1_000,
  });
  // Where a flush's CPU goes (synchronous parts: each store's SQLite work runs inside).
  const parts: Record<string, number> = { append: 0, analytics: 0, budget: 0, settler: 0 };
  const timed = <T extends object>(target: T, method: keyof T & string, part: string) => {
    const original = (target[method] as (...args: unknown[]) => unknown).bind(target);
    (target as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const t = process.cpuUsage();
      const result = original(...args);
      const d = process.cpuUsage(t);
      parts[part] += d.user + d.system;
      return result;
    };
  };
  timed(log, 'appendAll', 'append');
  timed(analytics, 'write', 'analytics');
  timed(budget, 'flush', 'budget');
  timed(settler, 'handle', 'settler');
  await bus.subscribe(sink);
  await bus.subscribe(settler);

  let next = 0;
  const run = async (requests: number) => {
    let publishUs = 0;
    let flushUs = 0;
    for (let done = 0; done < requests; done += BURST) {
      const events: GatewayEvent[] = [];
      for (let i = 0; i < BURST; i++) events.push(...requestEvents(next++));
      let t = process.cpuUsage();
      for (const event of events) bus.publish(event);
      let d = process.cpuUsage(t);
      publishUs += d.user + d.system;
      t = process.cpuUsage();
      await bus.flush();
      d = process.cpuUsage(t);
      flushUs += d.user + d.system;
    }
    return { publishUs, flushUs };
  };

  await run(WARMUP);
  for (const part of Object.keys(parts)) parts[part] = 0;
  const wall = performance.now();
  const { publishUs, flushUs } = await run(REQUESTS);
  const wallMs = performance.now() - wall;
  const per = (us: number) => (us / REQUESTS).toFixed(2);
  console.log(
    JSON.stringify({
      requests: REQUESTS,
      burst: BURST,
      publishUsPerRequest: Number(per(publishUs)),
      flushUsPerRequest: Number(per(flushUs)),
      parts: Object.fromEntries(Object.entries(parts).map(([part, us]) => [part, Number(per(us))])),
      wallUsPerRequest: Number(((wallMs * 1000) / REQUESTS).toFixed(2)),
      logRows: log.count(),
      usageRows: analytics.count('usage_events'),
    }),
  );
  settler.close();
  await bus.close();
  log.close();
  analytics.close();
  budget.close();
  if (process.env.RECORD_KEEP) console.log(dir);
  else rmSync(dir, { recursive: true, force: true });
}

void main();
