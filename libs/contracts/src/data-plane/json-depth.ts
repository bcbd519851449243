/**
 * How deeply a request's or an answer's arrays and objects may nest (the body itself is
 * level 1). Real bodies, tool schemas included, stay far below it; past it, code that
 * walks one (token estimates, provider translations, JSON.stringify) could exhaust the
 * stack. The edge refuses deeper requests; the provider adapters, deeper answers.
 */
export const MAX_BODY_DEPTH = 64;

/** Whether `value` nests arrays or objects deeper than `limit` levels. Iterative, stops early. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child as object);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
