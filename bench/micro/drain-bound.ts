// CPU per model call of bounding it by the stop's drain deadline (drainBoundedRouter, at every
// hop: the all-in-one gateway's router, and the ingress, router and provider-adapter of the
// split shape), while no stop has begun: a JSON call, and a stream's events. "before" is the
// bound as 64ce8d9 made it (AbortSignal.any of the caller's signal and the drain's, and a
// Promise.race with the deadline per event), "now" the one in libs/runtime, "bare" the router
// unwrapped. Each call gets its own caller signal, as the edge and wire servers make one.
// The heap after each round (after a full GC) shows whether the bound holds on to anything:
// AbortSignal.any against the one long-lived drain signal grew it run after run.
// Run: node_modules/.bin/node --expose-gc --require @swc-node/register bench/micro/drain-bound.ts
//   ITERATIONS (calls per round, default 200000), ROUNDS (default 5), EVENTS (per stream, 20)
// On the 2-core box (load ~20), 5 rounds of 100000: a JSON call bare ~0.7 us, before ~2.8
// (+2.0), now ~1.8 (+1.0); the heap before grew ~11 MB a round (kept through a full GC), now flat. A
// streamed event bare ~250 ns, before ~940 (+690), now ~430 (+180).
import type {
  GatewayAnswer,
  GatewayRequest,
  JsonObject,
  RouterPort,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import { execFileSync } from 'node:child_process';
import { drainBoundedRouter } from '../../libs/runtime/src/drain-bounded-calls';
import { DrainDeadline } from '../../libs/runtime/src/drain-deadline';

const ITERATIONS = Number(process.env.ITERATIONS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const EVENTS = Number(process.env.EVENTS ?? 20);
const gc = (globalThis as { gc?: () => void }).gc;

const request = { requestId: 'r1', requestedModel: 'm', stream: false } as GatewayRequest;
const usage: TokenUsage = {
  inputTokens: 1,
  outputTokens: 1,
  cachedInputTokens: 0,
  source: 'reported',
};
const servedBy = { backend: 'b', provider: 'vllm', model: 'm' };
const json: GatewayAnswer = { kind: 'json', status: 200, body: { id: 'x' }, usage, servedBy };
const chunk: JsonObject = { id: 'c', choices: [] };

async function* events(): AsyncGenerator<JsonObject> {
  for (let i = 0; i < EVENTS; i++) yield chunk;
}

const jsonRouter: RouterPort = { listModels: () => [], route: () => Promise.resolve(json) };
const streamRouter: RouterPort = {
  listModels: () => [],
  route: () =>
    Promise.resolve({
      kind: 'stream',
      status: 200,
      events: events(),
      usage: Promise.resolve(usage),
      servedBy,
    }),
};

/** The bound as it was (64ce8d9): AbortSignal.any per call, Promise.race per event. */
function drainBoundedRouterBefore(router: RouterPort, drain: DrainDeadline): RouterPort {
  return {
    listModels: () => router.listModels(),
    route: async (request, signal) => {
      if (drain.passed) throw drain.error;
      let answer: GatewayAnswer;
      try {
        answer = await router.route(request, AbortSignal.any([signal, drain.signal]));
      } catch (error) {
        if (!drain.passed || signal.aborted) throw error;
        throw drain.error;
      }
      if (answer.kind !== 'stream') return answer;
      return { ...answer, events: cutAtDeadlineBefore(answer.events, drain, signal) };
    },
  };
}

async function* cutAtDeadlineBefore(
  events: AsyncIterable<JsonObject>,
  drain: DrainDeadline,
  signal: AbortSignal,
): AsyncGenerator<JsonObject> {
  const iterator = events[Symbol.asyncIterator]();
  let onDeadline: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onDeadline = () => reject(drain.error);
    if (drain.passed) onDeadline();
    else drain.signal.addEventListener('abort', onDeadline, { once: true });
  });
  deadline.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), deadline]);
      if (next.done) return;
      yield next.value;
    }
  } catch (error) {
    if (!drain.passed || signal.aborted) throw error;
    throw drain.error;
  } finally {
    drain.signal.removeEventListener('abort', onDeadline!);
    if (drain.passed) void iterator.return?.()?.catch(() => undefined);
    else await iterator.return?.();
  }
}

/**
 * ns of CPU per call of `fn` in each round, the GC it leaves behind included, and the heap
 * after each round; in a process of its own (`ONLY`), so no variant's garbage or retained
 * memory is counted to another.
 */
async function rounds(label: string, fn: () => Promise<unknown>, per: number): Promise<void> {
  const costs: string[] = [];
  const heaps: string[] = [];
  gc?.();
  const heapAtStart = (process.memoryUsage().heapUsed / 1e6).toFixed(1);
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) await fn();
    gc?.();
    const used = process.cpuUsage(start);
    costs.push((((used.user + used.system) * 1000) / ITERATIONS / per).toFixed(0));
    heaps.push((process.memoryUsage().heapUsed / 1e6).toFixed(1));
  }
  console.log(
    `  ${label.padEnd(26)} ns ${costs.join(' ')}   heap MB ${heapAtStart} -> ${heaps.join(' ')}`,
  );
}

async function readAll(answer: GatewayAnswer): Promise<void> {
  if (answer.kind !== 'stream') return;
  for await (const event of answer.events) void event;
}

const VARIANTS = [
  'json:bare',
  'json:before',
  'json:now',
  'stream:bare',
  'stream:before',
  'stream:now',
];

async function measure(variant: string): Promise<void> {
  // Long-lived, as the process's drain is; no stop begins.
  const drain = new DrainDeadline(310_000);
  const [shape, bound] = variant.split(':');
  const router = shape === 'json' ? jsonRouter : streamRouter;
  const wrapped =
    bound === 'bare'
      ? router
      : bound === 'before'
        ? drainBoundedRouterBefore(router, drain)
        : drainBoundedRouter(router, drain, () => undefined);
  const label = { bare: 'bare', before: 'before', now: 'now' }[bound]!;
  if (shape === 'json') {
    await rounds(label, () => wrapped.route(request, new AbortController().signal), 1);
  } else {
    const read = async () => readAll(await wrapped.route(request, new AbortController().signal));
    await rounds(label, read, EVENTS);
  }
  if (bound === 'now' && drain.runningCalls !== 0) {
    throw new Error(`${drain.runningCalls} calls still tracked`);
  }
}

async function main(): Promise<void> {
  if (!gc) console.log('(run with --expose-gc for the heap after each round)');
  const only = process.env.ONLY;
  if (only) return measure(only);
  for (const variant of VARIANTS) {
    if (variant.endsWith(':bare')) {
      console.log(
        variant.startsWith('json')
          ? `per JSON call, ${ROUNDS} rounds of ${ITERATIONS} calls:`
          : `per streamed event, ${ROUNDS} rounds of ${ITERATIONS} streams of ${EVENTS} events:`,
      );
    }
    execFileSync(process.execPath, [...process.execArgv, __filename], {
      env: { ...process.env, ONLY: variant },
      stdio: 'inherit',
    });
  }
}

void main();
