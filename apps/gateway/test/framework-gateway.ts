import { mkdtempSync, writeFileSync } from 'node:fs';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { analyticsRows } from './analytics-rows';
import { FrameworkUpstream } from './framework-upstream';

/** The client-facing models: one per backend format, and two whose budget refuses. */
export const VIA_OPENAI = 'gpt-5-mini';
export const VIA_ANTHROPIC = 'claude-sonnet-4-5';
export const BACKEND_MODELS = [VIA_OPENAI, VIA_ANTHROPIC] as const;
/** The backend serving each model, as `x-ai-gateway-backend` names it. */
export const BACKEND_OF: Readonly<Record<string, string>> = {
  [VIA_OPENAI]: 'oa',
  [VIA_ANTHROPIC]: 'an',
};
/** Refused with a 20-day budget spent (a 429 the SDKs should not retry). */
export const SPENT_MODEL = 'spent-model';
/** Refused by a per-minute limit of 0 (a 429 with a Retry-After of a minute or less). */
export const MINUTE_MODEL = 'minute-model';

function config(upstream: FrameworkUpstream): string {
  const route = (name: string, backend: string) => `kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends:
  - ${backend}
  userIdentification: {header: x-user-id}
`;
  return [
    route(
      'openai-format',
      `{name: oa, provider: openai-compatible, baseUrl: "${upstream.baseUrl}/v1", model: upstream-gpt, modelNameOverride: ${VIA_OPENAI}}`,
    ),
    route(
      'anthropic-format',
      `{name: an, provider: anthropic, baseUrl: "${upstream.baseUrl}", model: claude-sonnet-4-5, modelNameOverride: ${VIA_ANTHROPIC}, auth: {apiKeyRef: {name: anthropic-key}}}`,
    ),
    `${route('spent', `{name: spent, provider: local, model: ${SPENT_MODEL}}`)}  tokenBudget:
    perUser: {limit: 0, period: 20d}
`,
    `${route('per-minute', `{name: minute, provider: local, model: ${MINUTE_MODEL}}`)}  tokenBudget:
    perMinute: {limit: 0}
`,
  ].join('---\n');
}

/** One all-in-one gateway in front of a FrameworkUpstream, and its usage records. */
export interface FrameworkGateway {
  readonly gateway: AppProcess;
  readonly upstream: FrameworkUpstream;
  /** The gateway's address, with no path. */
  readonly baseUrl: string;
  /** The usage rows the gateway stored for `user`, once there are `count`. */
  usageOf(user: string, count?: number): Promise<UsageRow[]>;
  stop(): Promise<void>;
}

export interface UsageRow {
  readonly request_id: string;
  readonly model_requested: string;
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** The part of input_tokens read from the provider's prompt cache. */
  readonly cached_input_tokens: number;
}

async function startFrameworkGateway(): Promise<FrameworkGateway> {
  const upstream = await new FrameworkUpstream().start();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-frameworks-'));
  writeFileSync(join(dir, 'config.yaml'), config(upstream));
  const dataDir = join(dir, 'data');
  let gateway: AppProcess;
  try {
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: dataDir,
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
      AI_GATEWAY_MISSING_SECRETS: 'warn',
    });
  } catch (error) {
    await upstream.stop();
    throw error;
  }
  return {
    gateway,
    upstream,
    baseUrl: gateway.baseUrl,
    usageOf: async (user, count = 1) => {
      return analyticsRows<UsageRow>(
        dataDir,
        'SELECT request_id, model_requested, input_tokens, output_tokens, cached_input_tokens FROM usage_events WHERE user_id = ? ORDER BY occurred_at',
        user,
        count,
      );
    },
    stop: async () => {
      await gateway.stop();
      await upstream.stop();
    },
  };
}

/**
 * A FrameworkGateway started once for this spec file and stopped after it; a failed start
 * is reported by the suites' `before` that await it.
 */
export function frameworkGatewayForThisFile(): Promise<FrameworkGateway> {
  const started = startFrameworkGateway();
  started.catch(() => undefined);
  after(async () => (await started.catch(() => undefined))?.stop());
  return started;
}

let users = 0;
/** A user id no other call of this process used: each call's usage is told apart by it. */
export function freshUser(label: string): string {
  users++;
  return `${label}-${process.pid}-${users}`;
}
