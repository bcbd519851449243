#!/usr/bin/env node
// Entry of the `ai-gateway` command. In a source checkout (dev dependencies installed)
// it runs the TypeScript directly through @swc-node/register, so it never uses a stale
// build; in an install without dev dependencies it runs the compiled dist/.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'libs/config/src/cli/main.ts');
const compiled = path.join(root, 'dist/libs/config/src/cli/main.js');

function canRunSource() {
  try {
    require.resolve('@swc-node/register', { paths: [root] });
    return require('node:fs').existsSync(source);
  } catch {
    return false;
  }
}

let cli;
if (canRunSource()) {
  // swc-node reads compiler options (decorator metadata) from this tsconfig, whatever the cwd.
  process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'tsconfig.json');
  require(require.resolve('@swc-node/register', { paths: [root] }));
  cli = require(source);
} else {
  cli = require(compiled);
}
cli.runCliAndExit(process.argv.slice(2));
