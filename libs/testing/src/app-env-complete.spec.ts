// The other half of deploy-manifests.spec's "every listed name is read": every variable
// the code reads is listed in app-env.ts for some deployable app, so an overlay setting it
// passes the "sets nothing it does not read" checks of the compose and manifest specs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { APP_NAMES, appReadsEnv, SECRET_ENV_PREFIX } from './app-env';

const root = join(__dirname, '..', '..', '..');

// How the code reads a variable: `env.X` / `env['X']` (process.env alike), a helper given
// `(env, 'X', ...)`, or a quoted name in our namespaces (a constant later read through env).
const READS = [
  /\benv\??\.([A-Z][A-Z0-9_]*[A-Z0-9])\b/g,
  /\benv\??\.?\[\s*['"]([A-Z][A-Z0-9_]*[A-Z0-9])['"]\s*\]/g,
  /\(\s*env\s*,\s*['"]([A-Z][A-Z0-9_]*[A-Z0-9])['"]/g,
  /['"`]((?:AI_GATEWAY|OTEL)_[A-Z0-9_]*[A-Z0-9])['"`]/g,
];

/** Source files of the deployable code: apps and libs, without specs and the test harness. */
function sourceFiles(dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!['node_modules', 'test', 'testing', 'dist'].includes(entry.name)) {
        sourceFiles(full, found);
      }
    } else if (entry.name.endsWith('.ts') && !/\.(int-|e2e-)?spec\.ts$/.test(entry.name)) {
      found.push(full);
    }
  }
  return found;
}

/** Each variable name the code reads, with the first file seen reading it. */
function envReads(): Map<string, string> {
  const reads = new Map<string, string>();
  for (const file of [...sourceFiles(join(root, 'apps')), ...sourceFiles(join(root, 'libs'))]) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of READS) {
      for (const match of text.matchAll(pattern)) {
        const name = match[1];
        // Provider keys: read by prefix (AI_GATEWAY_SECRET_<NAME>_<KEY>), named by config.
        if (name.startsWith(SECRET_ENV_PREFIX)) continue;
        if (!reads.has(name)) reads.set(name, relative(root, file));
      }
    }
  }
  return reads;
}

test('finds the reads of each form (so an empty scan cannot pass)', () => {
  const reads = envReads();
  // One of each form: env.X, a helper's (env, 'X'), a quoted name in a constant.
  for (const name of ['REDIS_URL', 'ROUTER_TIMEOUT_MS', 'AI_GATEWAY_HEAP_GROWING_PERCENT']) {
    assert.ok(reads.has(name), `${name} found`);
  }
});

test('every variable the code reads is listed in app-env.ts for a deployable app', () => {
  const missing = [...envReads()]
    .filter(([name]) => !APP_NAMES.some((app) => appReadsEnv(app, name)))
    .map(([name, file]) => `${name} (read in ${file})`);
  assert.deepEqual(missing, [], 'add these to app-env.ts for the apps that read them');
});
