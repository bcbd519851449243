// Some suites must start containers of their own whatever addresses are given: a broker
// to stop and restart, the harness's own checks. They may be skipped only in address mode
// (AIGW_INFRA_MODE=address from scripts/infra/env.sh: the services were given by address
// and no engine was prepared) and only when testcontainers finds no engine either. In the
// podman and docker modes they always run, and a missing engine fails them.
import { spawnSync } from 'node:child_process';

let engineFound: boolean | undefined;

/** Whether testcontainers finds a working engine, asked once per process. */
function engineAnswers(env: NodeJS.ProcessEnv): boolean {
  if (engineFound === undefined) {
    // Synchronous, so a suite can pass the answer as `{ skip }` when it declares its tests.
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        'require(process.argv[1]).getContainerRuntimeClient().then(() => process.exit(0), () => process.exit(1))',
        require.resolve('testcontainers'),
      ],
      { env, stdio: 'ignore', timeout: 30_000 },
    );
    engineFound = probe.status === 0;
  }
  return engineFound;
}

/**
 * For node:test's `{ skip }`: a reason when the suite cannot run (address mode and no
 * engine), else undefined. `needs` says what the suite starts, for the report.
 */
export function engineSkipReason(
  needs: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (env.AIGW_INFRA_MODE !== 'address' || engineAnswers(env)) return undefined;
  return `services given by address (AIGW_INFRA_MODE=address) and no container engine answers; this suite needs ${needs}`;
}
