// Entry point for `node --test --test-global-setup=libs/testing/src/global-setup.cjs`.
// Node loads a global-setup file itself (a .ts one as an ES module, past SWC), so this
// CommonJS shim loads the TypeScript module through require(), where SWC compiles it.
require('@swc-node/register');
module.exports = require('./global-setup.ts');
