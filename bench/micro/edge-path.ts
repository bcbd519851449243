// CPU per request of pieces of the all-in-one gateway's base request path (no HTTP, no
// upstream): the upstream POST's headers (providerPost, as before and now) and the
// failover router's route() over a provider stub, on bench/config/gateway-minimal.yaml.
// Run: node_modules/.bin/node --require @swc-node/register bench/micro/edge-path.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type {
  GatewayAnswer,
  GatewayRequest,
  JsonObject,
  ProviderCall,
  UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { providerPost } from '../../libs/providers/src/core/upstream-http';
import { FailoverRouter } from '../../libs/router/src/failover-router';

const ROOT = join(__dirname, '..', '..');
const ITERATIONS = Number(process.env.ITERATIONS ?? 300_000);

function load(file: string): GatewayConfig {
  const text = readFileSync(join(ROOT, 'bench', 'config', file), 'utf8').replaceAll(
    '__UPSTREAM_BASE_URL__',
    'http://127.0.0.1:9/v1',
  );
  const parsed = parseGatewayConfig(text, {
    missingSecrets: 'warn',
    env: { AI_GATEWAY_SECRET_BENCH_UPSTREAM_KEY_APIKEY: 'sk-bench' },
  });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  return parsed.config;
}

/** µs of CPU per call of `fn`, after a warm-up; the best of three rounds. */
async function cpuPerCall(fn: () => unknown): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 4; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) await fn();
    const used = process.cpuUsage(start);
    if (round > 0) best = Math.min(best, (used.user + used.system) / ITERATIONS);
  }
  return best;
}

/** providerPost as it was: three objects spread into a fourth. */
function providerPostBefore(call: ProviderCall, url: string, body: JsonObject) {
  const { request, target } = call;
  const credential = target.credential
    ? {
        [target.credential.headerName.toLowerCase()]:
          target.credential.headerPrefix + target.credential.apiKey.reveal(),
      }
    : {};
  const providerHeaders: Record<string, string> = {};
  return {
    url,
    headers: {
      ...request.forwardHeaders,
      ...credential,
      ...providerHeaders,
      'content-type': 'application/json',
      accept: request.stream ? 'text/event-stream' : 'application/json',
    },
    body: JSON.stringify(body),
  };
}

async function main(): Promise<void> {
  const config = load('gateway-minimal.yaml');
  const body = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Say hello to the benchmark in one short sentence.' },
    ],
    max_tokens: 16,
  };
  const request: GatewayRequest = {
    requestId: 'r1',
    operation: 'chat',
    requestedModel: 'gpt-4o-mini',
    stream: false,
    clientWantsStreamUsage: false,
    body,
    caller: { userKey: 'bench-user' },
    allowedModels: [],
    // What the policy forwards of wrk's headers.
    forwardHeaders: { host: '127.0.0.1:8080', 'x-user-id': 'bench-user' },
  };
  let target: UpstreamTarget | undefined;
  const answer = (call: ProviderCall): GatewayAnswer => ({
    kind: 'json',
    status: 200,
    body: { model: call.target.model, choices: [] },
    usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
    servedBy: { backend: call.target.backendName, provider: call.target.provider, model: 'm' },
  });
  const router = new FailoverRouter({
    config: () => config,
    providers: {
      invoke: (call) => {
        target = call.target;
        return Promise.resolve(answer(call));
      },
    },
  });
  const signal = new AbortController().signal;
  await router.route(request, signal);
  const call: ProviderCall = { request, target: target!, signal };
  const url = 'http://127.0.0.1:9/v1/chat/completions';
  console.log(
    `providerPost before ${(await cpuPerCall(() => providerPostBefore(call, url, body))).toFixed(3)} µs`,
  );
  console.log(
    `providerPost now    ${(await cpuPerCall(() => providerPost(call, url, body))).toFixed(3)} µs`,
  );
  console.log(
    `router.route (stub provider) ${(await cpuPerCall(() => router.route(request, signal))).toFixed(3)} µs`,
  );
}

void main();
