// Runs one kind of test suite with Node's own test runner, TypeScript loaded through
// SWC (decorator metadata included, which Nest's DI needs).
//   unit: *.spec.ts beside the code; int: *.int-spec.ts (real Kafka/Redis/ClickHouse);
//   e2e: apps/*/test/*.e2e-spec.ts (whole processes).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// Usage: run-tests.mjs KIND[,KIND...] [path filter...]
const SUFFIXES = {
  unit: /(?<!\.(int|e2e))\.spec\.ts$/,
  int: /\.int-spec\.ts$/,
  e2e: /\.e2e-spec\.ts$/,
};
const kinds = (process.argv[2] ?? 'unit').split(',');
const filters = process.argv.slice(3);
for (const kind of kinds) {
  if (!SUFFIXES[kind]) {
    console.error(`unknown suite "${kind}" (expected unit, int or e2e)`);
    process.exit(2);
  }
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

const files = ['apps', 'libs', 'bench']
  .filter((top) => existsSync(top))
  .flatMap((top) => [...walk(top)])
  .filter((f) => kinds.some((kind) => SUFFIXES[kind].test(f)))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no ${kinds.join('/')} test files found`);
  process.exit(1);
}

const unitOnly = kinds.length === 1 && kinds[0] === 'unit';
const concurrency = process.env.TEST_CONCURRENCY ?? (unitOnly ? '4' : '3');
const args = [
  '--require',
  '@swc-node/register',
  '--enable-source-maps',
  '--test',
  `--test-concurrency=${concurrency}`,
  `--test-timeout=${unitOnly ? 30_000 : 300_000}`,
  '--test-reporter=spec',
  // Real Redis, Kafka and ClickHouse start once per run; every int suite gets their addresses.
  ...(kinds.includes('int') ? ['--test-global-setup=libs/testing/src/global-setup.cjs'] : []),
  ...files,
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
