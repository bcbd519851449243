// Entry point for `node --test --test-global-setup=libs/testing/src/global-setup.cjs`.
// Node loads a global-setup file itself (a .ts one as an ES module, past SWC), so this
// CommonJS shim loads the TypeScript module through require(), where SWC compiles it.
// The exports are spelled out: Node finds a CommonJS file's exports by reading its
// source, and a re-exported .ts module would show it none.
require('@swc-node/register');
const setup = require('./global-setup.ts');

exports.globalSetup = () => setup.globalSetup();
exports.globalTeardown = () => setup.globalTeardown();
