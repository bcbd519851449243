// What one successful chat request costs in events and telemetry, with the real classes:
// the 3 events built and serialized as the embedded bus does (request.accepted,
// usage.recorded, request.completed), the provider metering's usage record and metrics,
// and the edge's started/accepted/completed/finished reports with their metrics.
// Pricing and the provider are stubs: they are not this area's cost.
//
//   node_modules/.bin/node --min-semi-space-size=16 --max-semi-space-size=16 \
//     --require @swc-node/register bench/micro/telemetry.ts [N]
//
// Prints CPU µs per request-equivalent for the whole and for the events alone (best of 5
// rounds). Fix the young generation's size as above (the gateway runs with a 16 MB max):
// left to grow by itself, some runs keep it small and spend ~30% in scavenges, which makes
// one build read 4.7 or 7.7 µs at random. With --expose-gc it also prints bytes allocated
// per request. Compare two trees by running this file in each, alternately, min of several.
import {
  GatewayEndpoint,
  serializeEvent,
  type EventPublisher,
  type GatewayEvent,
  type SerializedEvent,
} from '@aigw/contracts';
import type {
  GatewayAnswer,
  GatewayRequest,
  ProviderCall,
  ProviderPort,
  ServedBy,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import { usageRecordedEvent } from '@aigw/contracts/data-plane';
import { IngressTelemetry } from '../../libs/ingress/src/ingress-telemetry';
import { MetricsRegistry } from '@aigw/observability';
import { MeteredProviderPort } from '../../libs/providers/src/metering/metered-provider';

const N = Number(process.argv[2] ?? 200_000);

// Like EmbeddedEventBus.publish: serialize now, keep the event and its JSON until a flush.
const kept: { serialized: SerializedEvent; event: GatewayEvent }[] = [];
let keptBytes = 0;
const publisher: EventPublisher = {
  publish(event: GatewayEvent) {
    const serialized = serializeEvent(event);
    kept.push({ serialized, event });
    keptBytes += serialized.json.length;
    // The gateway's bus writes (and then drops) its pending events 500 at a time.
    if (kept.length >= 500) kept.length = 0;
  },
} as EventPublisher;

const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
const telemetry = new IngressTelemetry(publisher, metrics);
const servedBy: ServedBy = {
  backend: 'primary',
  provider: 'vllm',
  model: 'bench-model',
  attempts: 1,
};
const usage: TokenUsage = {
  inputTokens: 12,
  outputTokens: 9,
  cachedInputTokens: 0,
  source: 'reported',
};
const answer: GatewayAnswer = { kind: 'json', status: 200, body: {}, usage, servedBy };
const inner: ProviderPort = { invoke: () => Promise.resolve(answer) };
const price = { weightedTokens: 39, dollars: 0.0000072 };
const metered = new MeteredProviderPort(inner, publisher, metrics, () => price);

function requestFor(i: number): GatewayRequest {
  return {
    requestId: `req-${i}`,
    operation: 'chat',
    requestedModel: 'gpt-4o-mini',
    stream: false,
    clientWantsStreamUsage: false,
    body: {},
    caller: { userKey: 'bench-user' },
    reservationId: `res-${i}`,
    allowedModels: [],
    forwardHeaders: {},
  };
}
const target = { backendName: 'primary', provider: 'vllm', model: 'bench-model' };
const signal = new AbortController().signal;

/** One request's whole share: edge reports, metered call and its record (a microtask later). */
async function wholeRequest(i: number): Promise<void> {
  const request = requestFor(i);
  const timings: { startedAt: number; firstByteAt?: number } = { startedAt: performance.now() };
  telemetry.started(GatewayEndpoint.ChatCompletions);
  telemetry.accepted(GatewayEndpoint.ChatCompletions, request);
  const call: ProviderCall = { request, target, signal } as ProviderCall;
  const got = await metered.invoke(call);
  timings.firstByteAt = performance.now();
  telemetry.completed(GatewayEndpoint.ChatCompletions, request, got.servedBy, usage, timings, {
    cached: false,
  });
  telemetry.finished(GatewayEndpoint.ChatCompletions);
}

/** The same awaits with nothing in them: subtracted from the whole. */
async function emptyRequest(i: number): Promise<void> {
  const request = requestFor(i);
  const call = { request, target, signal } as ProviderCall;
  const got = await inner.invoke(call);
  void Promise.resolve(got.usage).then(() => undefined);
}

function eventsOnly(i: number): void {
  const request = requestFor(i);
  telemetry.accepted(GatewayEndpoint.ChatCompletions, request);
  publisher.publish(usageRecordedEvent(request, servedBy, usage, price, false));
  telemetry.completed(
    GatewayEndpoint.ChatCompletions,
    request,
    servedBy,
    usage,
    { startedAt: 0, firstByteAt: 1 },
    { cached: false },
  );
}

async function timeAsync(run: (i: number) => Promise<void>): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) await run(i);
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / N);
  }
  return best;
}

function timeSync(run: (i: number) => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) run(i);
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / N);
  }
  return best;
}

async function main(): Promise<void> {
  // Warm-up, so every function is optimised before it is timed.
  for (let i = 0; i < 50_000; i++) await wholeRequest(i);
  for (let i = 0; i < 50_000; i++) await emptyRequest(i);
  for (let i = 0; i < 50_000; i++) eventsOnly(i);
  const only = process.env.ONLY;
  // For a CPU profile of one part alone (--cpu-prof): ONLY=whole or ONLY=events.
  if (only === 'whole') {
    for (let i = 0; i < 2_000_000; i++) await wholeRequest(i);
    return;
  }
  if (only === 'events') {
    for (let i = 0; i < 2_000_000; i++) eventsOnly(i);
    return;
  }
  // Bytes allocated per request: heap growth over a run too short for a scavenge.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    for (const [name, run] of [
      ['whole', wholeRequest],
      ['events', eventsOnly],
    ] as const) {
      kept.length = 0;
      gc();
      const start = process.memoryUsage().heapUsed;
      for (let i = 0; i < 1000; i++) await run(i);
      console.log(
        `  ${name}: ~${Math.round((process.memoryUsage().heapUsed - start) / 1000)} B allocated per request`,
      );
    }
  }
  const empty = await timeAsync(emptyRequest);
  const whole = await timeAsync(wholeRequest);
  const events = timeSync(eventsOnly);
  const f = (us: number) => us.toFixed(2).padStart(6);
  console.log(`per request (µs CPU, best of 5 x ${N}):`);
  console.log(
    `  whole (minus empty awaits) ${f(whole - empty)}   [whole ${f(whole)}, empty ${f(empty)}]`,
  );
  console.log(`  3 events built+serialized  ${f(events)}`);
  console.log(`  (json bytes kept: ${keptBytes > 0 ? 'yes' : 'no'})`);
}

void main();
