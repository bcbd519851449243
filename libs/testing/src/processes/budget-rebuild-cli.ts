import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = resolve(__dirname, '../../../..');
const run = promisify(execFile);

/**
 * Runs `budget:rebuild` (apps/budget/src/rebuild-cli.ts) from source against the embedded
 * log and store: the service addresses the harness may have exported are dropped, `env`
 * (the config and data dir) is added. Rejects, as execFile does, when the exit code is not 0.
 */
export function runBudgetRebuild(
  env: Readonly<Record<string, string>>,
  ...args: string[]
): Promise<{ stdout: string; stderr: string }> {
  return run(
    process.execPath,
    ['--require', '@swc-node/register', 'apps/budget/src/rebuild-cli.ts', ...args],
    {
      cwd: REPO_ROOT,
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(
            ([name]) => !['REDIS_URL', 'KAFKA_BROKERS', 'CLICKHOUSE_URL'].includes(name),
          ),
        ),
        ...env,
      },
    },
  );
}

/** What a `budget:rebuild` run ended with: its exit code (0 included) and its output. */
export interface BudgetRebuildOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `budget:rebuild` as `runBudgetRebuild` does, resolving with its exit code whatever it is. */
export function budgetRebuildOutcome(
  env: Readonly<Record<string, string>>,
  ...args: string[]
): Promise<BudgetRebuildOutcome> {
  return runBudgetRebuild(env, ...args).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: BudgetRebuildOutcome) => error,
  );
}

/**
 * A new temp directory (`prefix`) holding `config.yaml`: one local model and a 30-day token
 * budget per user named by `x-user-id`, the route the budget-rebuild suites spend against.
 * The caller removes the directory.
 */
export function perUserBudgetConfig(
  prefix: string,
  model = 'gpt-4o-mini',
): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: local, provider: local, model: ${model}}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 100000, period: 30d}
`,
  );
  return { dir, config };
}
