import { setFlagsFromString } from 'node:v8';
import type { Env } from '../service-settings';

/**
 * How far V8 lets the old generation grow past what survived the last full GC before the
 * next one: 30 (%). V8's own heuristic grows it up to 4x for throughput; a gateway keeps
 * ~40 MB alive, while every request's events outlive two scavenges (they wait for the
 * durable log's 50 ms flush), so under load the old generation filled with ~130 MB of dead
 * events between full GCs: peak RSS 344 MB after a minute at 32 connections, ~205 MB at
 * 30%, for 0-7% more CPU per request (bench/README.md, "Probing memory"). A full GC of this
 * heap is ~10 ms, then every ~1.5 s under load.
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 30;
export const MAX_HEAP_GROWING_PERCENT = 300;
export const HEAP_GROWING_PERCENT_SETTING = 'AI_GATEWAY_HEAP_GROWING_PERCENT';

/**
 * AI_GATEWAY_HEAP_GROWING_PERCENT: 0 leaves V8's heuristic, 1-300 caps the growth; undefined
 * when it is neither (ServiceRuntime stops the start on that, naming the variable).
 */
export function heapGrowingPercent(env: Env): number | undefined {
  const raw = env[HEAP_GROWING_PERCENT_SETTING];
  if (raw === undefined || raw.trim() === '') return DEFAULT_HEAP_GROWING_PERCENT;
  // Digits only: Number() would also take 0x1e, 1e2 or +30.
  if (!/^\d{1,3}$/.test(raw.trim())) return undefined;
  const percent = Number(raw);
  return percent <= MAX_HEAP_GROWING_PERCENT ? percent : undefined;
}

/**
 * Hands the setting to V8, which reads it at each full GC. Not a NODE_OPTIONS flag: Node
 * refuses this V8 option there. Returns what was applied (0: V8's own heuristic).
 */
export function applyHeapGrowth(
  env: Env,
  setFlags: (flags: string) => void = setFlagsFromString,
): number | undefined {
  const percent = heapGrowingPercent(env);
  if (percent !== undefined && percent > 0) setFlags(`--heap-growing-percent=${percent}`);
  return percent;
}
