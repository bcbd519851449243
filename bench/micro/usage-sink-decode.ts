// CPU and allocation per event of the usage sink's own work, with no broker and no store:
// decode (JSON parse + contract check, as both buses do for every message they read), the
// row layout (ClickHouse's rows by table, SQLite's flat bind values), and a Kafka delivery
// handed to the sink's consumer (decode each message, then UsageSinkConsumer.handle with a
// writer that only lays out the rows). The events are the 3 of a successful chat request
// (request.accepted, usage.recorded, request.completed), built with the real factories and
// encoded as the producer encodes them.
//
// "baseline" is the code as it was before the compiled contract check, copied here (JSON
// parse, class-transformer plainToInstance and class-validator validateSync per event;
// rows through Object.fromEntries), so both are measured in the same process, alternating.
// The SQLite row values and the embedded bus's serialisation (withJson) are printed for
// scale only (the same code in both columns): withJson is JSON.stringify of the instance,
// ~1.7 µs for a 500 B event, and faster than a copy to a plain object (~2.4 µs) or a
// hand-built string (~3.1 µs) in a quick try, so it stays.
//
//   node_modules/.bin/node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 \
//     --require @swc-node/register bench/micro/usage-sink-decode.ts [events]
//
// Prints CPU µs per event (user + system, best of ROUNDS, default 7) and, with --expose-gc, bytes allocated
// per event (heap growth over a run too short for a scavenge, median of 5).
// PROFILE=baseline|current runs only that decode path for a --cpu-prof.
import {
  CompletionStatus,
  CONSUMED_EVENT_VALIDATION,
  createRequestAccepted,
  createRequestCompleted,
  decodeEvent,
  encodeEvent,
  EVENT_CATALOG,
  GatewayEndpoint,
  isEventTopic,
  serializeEvent,
  validatePlain,
  type EventSpec,
  type EventTopic,
  type GatewayEvent,
} from '@aigw/contracts';
import { usageRecordedEvent } from '@aigw/contracts/data-plane';
import { UsageSinkConsumer } from '../../libs/usage-sink/src/usage-sink.consumer';
import {
  rowLayoutOf,
  toRowsByTable,
  type EventRow,
  type RawTable,
} from '../../libs/usage-sink/src/domain/event-rows';

const EVENTS = Number(process.argv[2] ?? 30_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const DELIVERY = 500; // the Kafka bus's maxBatch: one handle() call

interface Message {
  readonly topic: EventTopic;
  readonly value: Buffer;
}

function requestEvents(n: number): GatewayEvent[] {
  const requestId = `req-${n.toString(16).padStart(12, '0')}`;
  const user = `user-${n % 997}@example.com`;
  const caller = { userKey: user, tier: n % 3 === 0 ? 'gold' : undefined };
  const request = {
    requestId,
    caller,
    requestedModel: 'gpt-4o-mini',
    reservationId: `res-${requestId}`,
    operation: 'chat',
  };
  const servedBy = {
    provider: 'openai',
    backend: 'openai-primary',
    route: 'default-route',
    model: 'gpt-4o-mini-2024-07-18',
    attempts: 1,
  };
  const common = { requestId, partitionKey: user, userId: user };
  return [
    createRequestAccepted({
      ...common,
      endpoint: GatewayEndpoint.ChatCompletions,
      modelRequested: 'gpt-4o-mini',
      stream: n % 2 === 0,
      tier: caller.tier,
      reservationId: request.reservationId,
      reservedTokens: 1064 + (n % 500),
      estimatedInputTokens: 40 + (n % 300),
    }),
    usageRecordedEvent(
      request as never,
      servedBy,
      {
        inputTokens: 412 + (n % 300),
        outputTokens: 128 + (n % 700),
        cachedInputTokens: n % 5 === 0 ? 256 : 0,
        source: 'reported',
      } as never,
      { weightedTokens: 576.5, dollars: 0.000132 + n / 1e9 },
      false,
    ),
    createRequestCompleted({
      ...common,
      endpoint: GatewayEndpoint.ChatCompletions,
      status: CompletionStatus.Success,
      httpStatus: 200,
      latencyMs: 812.345 + (n % 100),
      ttfbMs: 201.5,
      provider: 'openai',
      backend: 'openai-primary',
      route: 'default-route',
      modelRequested: 'gpt-4o-mini',
      modelServed: 'gpt-4o-mini-2024-07-18',
      stream: n % 2 === 0,
      cached: false,
      attempts: 1,
      tier: caller.tier,
    }),
  ];
}

// ---- baseline: the code before this change, copied -------------------------------------

function baselineDecode(topic: string, value: Buffer): GatewayEvent {
  if (!isEventTopic(topic)) throw new Error('topic');
  const spec = EVENT_CATALOG[topic] as EventSpec<GatewayEvent>;
  const parsed = JSON.parse(value.toString('utf8')) as { type?: unknown; version?: unknown };
  if (parsed.type !== spec.type || parsed.version !== spec.version) throw new Error('type');
  const validated = validatePlain(spec.cls, parsed, CONSUMED_EVENT_VALIDATION);
  if (!validated.ok) throw new Error('invalid');
  return validated.value;
}

function baselineRows(events: readonly GatewayEvent[]): Map<RawTable, EventRow[]> {
  const seen = new Set<string>();
  const byTable = new Map<RawTable, EventRow[]>();
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    const { table, columns, values } = rowLayoutOf(event);
    const row = Object.fromEntries(values(event).map((value, i) => [columns[i], value]));
    const rows = byTable.get(table);
    if (rows) rows.push(row);
    else byTable.set(table, [row]);
  }
  return byTable;
}

function currentDecode(topic: EventTopic, value: Buffer): GatewayEvent {
  const decoded = decodeEvent(topic, value);
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}

// ---- the measured paths ------------------------------------------------------------------

type Decode = (topic: EventTopic, value: Buffer) => GatewayEvent;
type Rows = (events: readonly GatewayEvent[]) => unknown;

let sinkBytes = 0; // keeps results alive so nothing is optimised away

function decodeAll(decode: Decode, messages: readonly Message[]): GatewayEvent[] {
  const out = new Array<GatewayEvent>(messages.length);
  for (let i = 0; i < messages.length; i++) out[i] = decode(messages[i].topic, messages[i].value);
  return out;
}

function sqliteValues(events: readonly GatewayEvent[]): number {
  let count = 0;
  for (const event of events) count += rowLayoutOf(event).values(event).length;
  return count;
}

/** As the Kafka bus hands a delivery on: decode each message, then the sink's handle(). */
async function kafkaDeliveries(decode: Decode, rows: Rows, messages: readonly Message[]) {
  const sink = new UsageSinkConsumer(
    {
      write: (events) => {
        sinkBytes += (rows(events) as Map<unknown, unknown>).size;
        return Promise.resolve();
      },
    },
    { maxItems: 1000, maxWaitMs: 0 },
  );
  for (let at = 0; at < messages.length; at += DELIVERY) {
    const events: GatewayEvent[] = [];
    for (const message of messages.slice(at, at + DELIVERY)) {
      events.push(decode(message.topic, message.value));
    }
    await sink.handle(events);
  }
}

interface Variant {
  readonly decode: Decode;
  readonly rows: Rows;
}

const VARIANTS: Record<'baseline' | 'current', Variant> = {
  baseline: { decode: baselineDecode, rows: baselineRows },
  current: { decode: currentDecode, rows: toRowsByTable },
};

type Part = (variant: Variant, messages: readonly Message[], events: GatewayEvent[]) => unknown;

const PARTS: Record<string, Part> = {
  'decode (parse + check)': (v, messages) => decodeAll(v.decode, messages),
  'rows by table (ClickHouse)': (v, _m, events) => v.rows(events),
  'kafka delivery -> handle': (v, messages) => kafkaDeliveries(v.decode, v.rows, messages),
};

async function usPerEvent(
  part: Part,
  variant: Variant,
  messages: Message[],
  events: GatewayEvent[],
) {
  // CPU time, not wall time: the box is shared, and a descheduled run would read slow.
  const started = process.cpuUsage();
  await part(variant, messages, events);
  const spent = process.cpuUsage(started);
  return (spent.user + spent.system) / messages.length;
}

async function bytesPerEvent(
  part: Part,
  variant: Variant,
  messages: Message[],
  events: GatewayEvent[],
) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  // Few enough events that a 16 MB young generation takes them without a scavenge.
  const few = messages.slice(0, 600);
  const fewEvents = events.slice(0, 600);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    gc();
    const start = process.memoryUsage().heapUsed;
    const kept = await part(variant, few, fewEvents);
    samples.push((process.memoryUsage().heapUsed - start) / few.length);
    if (kept === sinkBytes) sinkBytes++;
  }
  return samples.sort((a, b) => a - b)[2];
}

async function main(): Promise<void> {
  const events: GatewayEvent[] = [];
  for (let n = 0; events.length < EVENTS; n++) events.push(...requestEvents(n));
  const messages: Message[] = events.map((event) => {
    const encoded = encodeEvent(event);
    return { topic: encoded.topic, value: encoded.value };
  });
  const bytes = messages.reduce((sum, m) => sum + m.value.length, 0) / messages.length;
  console.log(`${messages.length} events (mean ${bytes.toFixed(0)} B JSON), best of ${ROUNDS}`);

  const profiled = process.env.PROFILE as keyof typeof VARIANTS | undefined;
  if (profiled) {
    for (let i = 0; i < 20; i++) decodeAll(VARIANTS[profiled].decode, messages);
    return;
  }
  // Same results both ways before timing anything.
  const a = decodeAll(baselineDecode, messages);
  const b = decodeAll(currentDecode, messages);
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('decoded events differ');
  if (JSON.stringify([...baselineRows(a)]) !== JSON.stringify([...toRowsByTable(b)])) {
    throw new Error('rows differ');
  }

  // Unchanged paths, for scale: both columns run the same code.
  const all: Record<string, Part> = {
    ...PARTS,
    'row values (SQLite, same)': (_v, _m, evs) => sqliteValues(evs),
    'serialize (withJson, same)': (_v, _m, evs) => evs.map((e) => serializeEvent(e).json.length),
  };
  for (const [name, part] of Object.entries(all)) {
    const best: Record<string, number> = { baseline: Infinity, current: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline'];
      for (const which of order) {
        const us = await usPerEvent(part, VARIANTS[which as 'baseline'], messages, events);
        best[which] = Math.min(best[which], us);
      }
    }
    const alloc = [
      await bytesPerEvent(part, VARIANTS.baseline, messages, events),
      await bytesPerEvent(part, VARIANTS.current, messages, events),
    ];
    const allocText =
      alloc[0] === undefined ? '' : `, ${alloc[0].toFixed(0)} -> ${alloc[1]?.toFixed(0)} B/event`;
    console.log(
      `${name.padEnd(28)} baseline ${best.baseline.toFixed(2).padStart(6)} µs/event, current ${best.current.toFixed(2).padStart(6)} µs/event (x${(best.baseline / best.current).toFixed(2)})${allocText}`,
    );
  }
  if (sinkBytes < 0) console.log(sinkBytes);
}

void main();
