// What a piece of synchronous work costs, for specs that bound it. The CPU time this
// process spent, not the wall clock: on a loaded machine the wall clock also counts the
// time other processes held the cores (a 100 ms read took 4 s so in CI), which says
// nothing about the code under test.

/** Runs `work` and returns its result with the CPU milliseconds it took. */
export function cpuMillis<T>(work: () => T): { result: T; ms: number } {
  const before = process.cpuUsage();
  const result = work();
  const spent = process.cpuUsage(before);
  return { result, ms: (spent.user + spent.system) / 1_000 };
}
