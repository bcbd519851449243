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

/** Runs every check at once and judges the pod on its own checks only. */
export async function evaluateReadiness(
  fixed: Record<string, string>,
  checks: readonly ReadinessCheck[],
  onShared?: (name: string, ready: boolean) => void,
): Promise<Readiness> {
  const results = await Promise.all(checks.map((check) => check.check()));
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
