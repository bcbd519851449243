// yaml's parser reads its LOG_TOKENS debugging switch from the environment once per lexeme, and
// every read of process.env asks the C++ environment: about a sixth of the CPU time of
// loading a large config (scripts/measure-config-load.ts). While yaml lexes, and only
// then, process.env is a plain copy of itself: the same names and values, read at
// JavaScript speed. The work is synchronous, so nothing else runs meanwhile, and the real
// one is put back even if the work throws.
export function withEnvCopy<T>(work: () => T): T {
  const real = Object.getOwnPropertyDescriptor(process, 'env');
  // Not a plain, replaceable property here (some embedder): do the work as it is.
  if (real?.configurable !== true || !('value' in real)) return work();
  Object.defineProperty(process, 'env', { ...real, value: { ...process.env } });
  try {
    return work();
  } finally {
    Object.defineProperty(process, 'env', real);
  }
}
