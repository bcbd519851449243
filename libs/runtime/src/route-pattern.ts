/**
 * A route's path pattern as a whole-path matcher: `:name` one segment, `*` the rest (one or
 * more segments), anything else literal. Shared by the tables that answer 405 with `Allow`.
 */
export function routePatternMatcher(pattern: string): RegExp {
  const parts = pattern.split('/').map((part) => {
    if (part === '*') return '.+';
    if (part.startsWith(':')) return '[^/]+';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('/')}$`);
}
