/**
 * What a readiness check reports on: this pod's own condition, or a dependency every
 * replica shares.
 *
 * - `own`: only this pod has it (its config, its event log's disk, a full spool). Failing
 *   it takes this pod out of rotation, so traffic goes to replicas that can serve.
 * - `shared`: Redis, the router, the provider-adapter. When it is down it is down for
 *   every replica, so gating on it would take them all out at once: clients would get
 *   connection errors instead of the gateway's own answers (a 503 with Retry-After, or a
 *   normal answer for requests that do not need it), and nothing would be counted to alert
 *   on. It is reported in the body and on metrics, never gating.
 */
export type ReadinessScope = 'own' | 'shared';

/** A condition for /readyz; an `own` one with `ready: false` takes the pod out of rotation. */
export interface ReadinessCheck {
  readonly name: string;
  /** Default `own`. */
  readonly scope?: ReadinessScope;
  check(): Promise<{ ready: boolean; state: string }>;
}

/** The /readyz verdict and body. */
export interface Readiness {
  /** Whether every `own` check passes: this alone decides the HTTP status. */
  readonly ready: boolean;
  /** Every check's state by name, gating or not. */
  readonly checks: Record<string, string>;
  /** The checks that never take the pod out of rotation (shared dependencies). */
  readonly notGating: string[];
  /** The checks failing now, gating or not, so a degraded but ready pod says so. */
  readonly failing: string[];
}

/**
 * How long one check may take: under the probes' 3 s timeout (deploy/k8s), so a dependency
 * that holds a connection open (ClickHouse's ping waits 30 s) fails that check alone rather
 * than the whole probe, which would take every replica out over a shared dependency.
 */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/** Runs every check at once and judges the pod on its own checks only. */
export async function evaluateReadiness(
  fixed: Record<string, string>,
  checks: readonly ReadinessCheck[],
  onShared?: (name: string, ready: boolean) => void,
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): Promise<Readiness> {
  const results = await Promise.all(checks.map((check) => boundedCheck(check, timeoutMs)));
  const readiness: Readiness = { ready: true, checks: { ...fixed }, notGating: [], failing: [] };
  let ready = true;
  checks.forEach((check, index) => {
    const result = results[index];
    readiness.checks[check.name] = result.state;
    if (!result.ready) readiness.failing.push(check.name);
    if (check.scope === 'shared') {
      readiness.notGating.push(check.name);
      onShared?.(check.name, result.ready);
    } else {
      ready &&= result.ready;
    }
  });
  return { ...readiness, ready };
}

/** A check's result, or failing when it throws or does not answer in time (the error's name only). */
async function boundedCheck(
  check: ReadinessCheck,
  timeoutMs: number,
): Promise<{ ready: boolean; state: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ ready: boolean; state: string }>((resolve) => {
    timer = setTimeout(
      () => resolve({ ready: false, state: `no answer in ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([check.check(), late]);
  } catch (error) {
    return {
      ready: false,
      state: `check failed (${error instanceof Error ? error.name : 'unknown'})`,
    };
  } finally {
    clearTimeout(timer);
  }
}
