/**
 * How deeply a request's or an answer's arrays and objects may nest (the body itself is
 * level 1). Real bodies, tool schemas included, stay far below it; past it, code that
 * walks one (token estimates, provider translations, JSON.stringify) could exhaust the
 * stack. The edge refuses deeper requests; the provider adapters, deeper answers.
 */
export const MAX_BODY_DEPTH = 64;

/**
 * Whether `value` (parsed JSON) nests arrays or objects deeper than `limit` levels. It stops
 * descending past the limit, so it recurses at most `limit + 1` deep however deep the value.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  return value !== null && typeof value === 'object' && deeper(value, 1, limit);
}

function deeper(node: object, depth: number, limit: number): boolean {
  if (depth > limit) return true;
  if (Array.isArray(node)) {
    for (const child of node as unknown[]) {
      if (child !== null && typeof child === 'object' && deeper(child, depth + 1, limit)) {
        return true;
      }
    }
    return false;
  }
  // Parsed JSON: plain objects whose keys are all their own.
  for (const key in node) {
    const child = (node as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object' && deeper(child, depth + 1, limit)) {
      return true;
    }
  }
  return false;
}
