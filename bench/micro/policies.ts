// CPU per request of the policies on the all-in-one gateway's request path, in-process (no
// HTTP, no upstream, no event log), with the real classes on bench/config/gateway.yaml and
// on gateway-minimal.yaml: identity and prompt rules (IngressPipeline.prepare), budget
// admission (admit, the in-memory LocalBudgetStore), the router's per-model gate, the usage
// price and event, the answer's cost header, and the budget settler's apply of the event.
// The difference between the two configs is what the policies cost a request.
// Run: node_modules/.bin/node --require @swc-node/register bench/micro/policies.ts [--steps]
//   ONLY=full|minimal runs one config (for --cpu-prof); ITERATIONS, ROUNDS (default 3)
//   --steps  also prints each step's wall time (a little overhead added; on a busy machine
//            wall time runs past CPU time, so read these as shares, not costs)
// At 7206411 on the 2-core box: full ~6.8 us, minimal ~2.1 (before df20c3d: 10.9 and 3.4).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayConfig, routeForModel, type GatewayConfig } from '@aigw/config';
import { type EventPublisher, type GatewayEvent } from '@aigw/contracts';
import {
  usageRecordedEvent,
  type RouterPort,
  type ServedBy,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { ExhaustionView } from '../../libs/budget-core/src/exhaustion-view';
import { LocalBudgetStore } from '../../libs/budget-core/src/embedded/local-budget-store';
import { modelBudgetGate } from '../../libs/budget-core/src/model-budget-gate';
import { BudgetSettler } from '../../libs/budget/src/budget-settler';
import { BudgetAdmission } from '../../libs/ingress/src/admission/budget-admission';
import { dollarText, pricedDollars } from '../../libs/ingress/src/domain/answer-cost';
import { IngressPipeline } from '../../libs/ingress/src/ingress-pipeline';
import { configUsagePricing } from '../../libs/runtime/src/usage-pricing';

const ROOT = join(__dirname, '..', '..');
const ITERATIONS = Number(process.env.ITERATIONS ?? 200_000);
const WARMUP = 50_000;
/** The embedded bus hands the settler its events in batches: a flush each 50 ms, ~100 usage events at the bench rate. */
const SETTLE_BATCH = 100;
const steps = process.argv.includes('--steps');

function load(file: string): GatewayConfig {
  const text = readFileSync(join(ROOT, 'bench', 'config', file), 'utf8').replaceAll(
    '__UPSTREAM_BASE_URL__',
    'http://127.0.0.1:9/v1',
  );
  const parsed = parseGatewayConfig(text, { missingSecrets: 'warn', env: {} });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  return parsed.config;
}

// What wrk sends (bench/lib/harness.mjs OUR_HEADERS and requestBody), as Fastify hands it.
const HEADERS = {
  host: '127.0.0.1:8080',
  'content-type': 'application/json',
  'content-length': '190',
  authorization: 'Bearer client-key-not-forwarded',
  'x-user-id': 'bench-user',
  'x-internal-auth': 'stripped-by-gateway',
};
function body() {
  return {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Say hello to the benchmark in one short sentence.' },
    ],
    max_tokens: 16,
  };
}
const USAGE: TokenUsage = {
  inputTokens: 23,
  outputTokens: 9,
  cachedInputTokens: 0,
  source: 'reported',
};

const unusedRouter: RouterPort = {
  route: () => Promise.reject(new Error('not routed here')),
  listModels: () => [],
};

type Step = 'prepare' | 'admit' | 'gate' | 'usage' | 'cost' | 'settle';

async function measure(file: string): Promise<{ us: number; steps: Record<Step, number> }> {
  const config = load(file);
  const current = () => config;
  const metrics = new MetricsRegistry();
  const published: GatewayEvent[] = [];
  const events: EventPublisher = {
    publish: (event: GatewayEvent) => void published.push(event),
  } as unknown as EventPublisher;
  const store = new LocalBudgetStore(':memory:');
  const exhausted = new ExhaustionView();
  const pipeline = new IngressPipeline(current, unusedRouter, {});
  const admission = new BudgetAdmission(current, store, exhausted, {
    defaultMaxOutputTokens: 4096,
    holdMs: 600_000,
  });
  const gate = modelBudgetGate(exhausted);
  const pricing = configUsagePricing(current, metrics);
  const settler = new BudgetSettler(current, store, events, metrics, undefined, undefined, {
    remainingIntervalMs: 1_000,
  });
  const route = routeForModel(config, 'gpt-4o-mini')!;
  const backend = route.backends[0];
  const servedBy: ServedBy = {
    backend: backend.name,
    provider: backend.provider,
    model: backend.model!,
  };
  const answerUsage = USAGE;
  const batch: GatewayEvent[] = [];
  const spent: Record<Step, number> = {
    prepare: 0,
    admit: 0,
    gate: 0,
    usage: 0,
    cost: 0,
    settle: 0,
  };
  let mark = 0;
  const lap = (step: Step) => {
    if (!steps) return;
    const now = performance.now();
    spent[step] += now - mark;
    mark = now;
  };

  let sink = 0;
  const one = async (index: number) => {
    if (steps) mark = performance.now();
    let request = await pipeline.prepare('chat', body(), HEADERS, `req-${index}`);
    lap('prepare');
    const admitted = await admission.admit(request);
    request = { ...request, reservationId: admitted.reservationId };
    sink += Object.keys(admitted.headers).length;
    lap('admit');
    gate(route, servedBy.model);
    lap('gate');
    const price = pricing({} as never, servedBy, answerUsage);
    const event = usageRecordedEvent(request, servedBy, answerUsage, price, false);
    lap('usage');
    const dollars = pricedDollars(config, servedBy, answerUsage);
    if (dollars !== undefined) sink += dollarText(dollars).length;
    lap('cost');
    batch.push(event);
    if (batch.length === SETTLE_BATCH) {
      await settler.handle(batch.splice(0));
    }
    lap('settle');
  };

  for (let index = 0; index < WARMUP; index++) await one(index);
  for (const step of Object.keys(spent) as Step[]) spent[step] = 0;
  const before = process.cpuUsage();
  for (let index = 0; index < ITERATIONS; index++) await one(WARMUP + index);
  const used = process.cpuUsage(before);
  settler.close();
  store.close();
  if (sink < 0 || published.length < 0) console.log(sink);
  const perStep = {} as Record<Step, number>;
  for (const step of Object.keys(spent) as Step[]) {
    perStep[step] = (spent[step] * 1000) / ITERATIONS;
  }
  return { us: (used.user + used.system) / ITERATIONS, steps: perStep };
}

async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 3);
  const results: Record<string, number[]> = { full: [], minimal: [] };
  const stepSums: Record<string, Record<string, number>> = { full: {}, minimal: {} };
  for (let round = 0; round < rounds; round++) {
    for (const [name, file] of [
      ['full', 'gateway.yaml'],
      ['minimal', 'gateway-minimal.yaml'],
    ] as const) {
      if (process.env.ONLY && process.env.ONLY !== name) continue;
      const result = await measure(file);
      results[name].push(result.us);
      for (const [step, us] of Object.entries(result.steps)) {
        stepSums[name][step] = (stepSums[name][step] ?? 0) + us / rounds;
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const full = median(results.full) ?? NaN;
  const minimal = median(results.minimal) ?? NaN;
  console.log(
    `CPU us/request (median of ${rounds}, ${ITERATIONS} each): full ${full.toFixed(2)}, ` +
      `minimal ${minimal.toFixed(2)}, policies ${(full - minimal).toFixed(2)}`,
  );
  if (steps) {
    for (const name of ['full', 'minimal']) {
      const parts = Object.entries(stepSums[name]).map(([s, us]) => `${s} ${us.toFixed(2)}`);
      console.log(`  ${name} (wall us per step): ${parts.join(', ')}`);
    }
  }
}

void main();
