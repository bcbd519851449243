// Compiles apps/ and libs/ to dist/ with SWC: decorators with metadata (Nest DI needs
// them), path aliases rewritten to relative requires, assets copied beside the code, and
// barrels' re-exports settled into plain properties on first use (lib/settled-reexports.mjs).
import { transformFile } from '@swc/core';
import { readFileSync, mkdirSync, writeFileSync, copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { settleReexports } from './lib/settled-reexports.mjs';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
// `--out DIR` builds elsewhere (a benchmark's second build beside dist/); the layout is the same.
const outAt = process.argv.indexOf('--out');
const outDir = outAt > 0 ? resolve(process.argv[outAt + 1]) : join(root, 'dist');
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));
const ASSET = /\.(sql|ya?ml|html|json|js|css)$/;
const SKIP = /\.(spec|int-spec|e2e-spec)\.ts$/;

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'test') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

const swcOptions = {
  sourceMaps: true,
  module: { type: 'commonjs' },
  jsc: {
    target: 'es2023',
    baseUrl: root,
    paths: tsconfig.compilerOptions.paths,
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
};

rmSync(outDir, { recursive: true, force: true });
let compiled = 0;
for (const top of ['apps', 'libs']) {
  for (const file of walk(join(root, top))) {
    const target = join(outDir, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
      if (SKIP.test(file)) continue;
      const { code: compiledCode, map } = await transformFile(file, {
        ...swcOptions,
        filename: file,
      });
      const code = settleReexports(compiledCode, file);
      const jsTarget = target.replace(/\.ts$/, '.js');
      writeFileSync(jsTarget, `${code}\n//# sourceMappingURL=${jsTarget.split('/').pop()}.map\n`);
      if (map) writeFileSync(`${jsTarget}.map`, map);
      compiled++;
    } else if (ASSET.test(file) && !file.endsWith('project.json')) {
      copyFileSync(file, target);
    }
  }
}
console.log(`built ${compiled} files into ${relative(root, outDir) || outDir}/`);
