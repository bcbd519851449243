// The build's settled re-exports (scripts/lib/settled-reexports.mjs): a barrel compiled by
// the SWC the build uses still reads every name its modules export, a name becomes a plain
// property after its first read, a read before the module is ready still throws and can be
// tried again, and an `_export_star` the build does not know stops the build.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInThisContext } from 'node:vm';
import { transformSync } from '@swc/core';

const root = join(__dirname, '..', '..', '..');

type Settle = (code: string, file: string) => string;

async function settleReexports(): Promise<Settle> {
  const module = (await import(join(root, 'scripts/lib/settled-reexports.mjs'))) as {
    settleReexports: Settle;
  };
  return module.settleReexports;
}

/** `export * from './source'` compiled to CommonJS, as the build compiles a barrel. */
function compiledBarrel(): string {
  return transformSync("export * from './source';\n", {
    filename: 'index.ts',
    module: { type: 'commonjs' },
    jsc: { target: 'es2023', parser: { syntax: 'typescript' } },
  }).code;
}

/** Runs compiled CommonJS `code` with `source` as what `require('./source')` returns. */
function load(code: string, source: object): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  // The module wrapper Node gives CommonJS code, minus what these barrels do not use.
  const run = runInThisContext(`(function (exports, require) {${code}\n})`) as (
    exports: object,
    require: (id: string) => object,
  ) => void;
  run(exports, () => source);
  return exports;
}

test('a settled barrel reads each name once, then holds it as a plain property', async () => {
  const settle = await settleReexports();
  let reads = 0;
  const source = {};
  Object.defineProperty(source, 'answer', {
    enumerable: true,
    get: () => {
      reads++;
      return 42;
    },
  });
  const barrel = load(settle(compiledBarrel(), 'index.js'), source);

  assert.equal(barrel.answer, 42);
  assert.equal(barrel.answer, 42);
  assert.equal(reads, 1);
  const property = Object.getOwnPropertyDescriptor(barrel, 'answer');
  assert.equal(property?.value, 42);
  assert.ok(property && !('get' in property), 'a data property, no getter left');
  assert.equal(property?.enumerable, true);
});

test('a name read before its module is ready throws as before and settles once it is', async () => {
  const settle = await settleReexports();
  let ready = false;
  const source = {};
  Object.defineProperty(source, 'Late', {
    enumerable: true,
    get: () => {
      if (!ready) throw new ReferenceError("Cannot access 'Late' before initialization");
      return 'late';
    },
  });
  const barrel = load(settle(compiledBarrel(), 'index.js'), source);

  assert.throws(() => barrel.Late, ReferenceError);
  ready = true;
  assert.equal(barrel.Late, 'late');
  assert.equal(Object.getOwnPropertyDescriptor(barrel, 'Late')?.value, 'late');
});

test('the unsettled helper reads through a getter on every use (what the build replaces)', () => {
  let reads = 0;
  const source = {};
  Object.defineProperty(source, 'answer', { enumerable: true, get: () => ++reads });
  const barrel = load(compiledBarrel(), source);
  void barrel.answer;
  void barrel.answer;
  assert.equal(reads, 2);
});

test('code without a barrel helper passes through unchanged', async () => {
  const settle = await settleReexports();
  const code = 'exports.x = 1;\n';
  assert.equal(settle(code, 'plain.js'), code);
});

test('an _export_star the build does not recognise stops the build, naming the file', async () => {
  const settle = await settleReexports();
  const changed = compiledBarrel().replace('return from[k];', 'return Reflect.get(from, k);');
  assert.throws(() => settle(changed, 'libs/x/src/index.js'), /libs\/x\/src\/index\.js: SWC's/);
});
