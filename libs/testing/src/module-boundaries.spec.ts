import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = resolve(__dirname, '../../..');
const BOUNDARY_RULE = '@nx/enforce-module-boundaries';

/** Lints `code` as if it were the content of an existing file of the workspace. */
async function boundaryErrors(eslint: ESLint, filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === BOUNDARY_RULE).map((m) => m.message);
}

describe('Nx module boundaries in the lint', () => {
  let eslint: ESLint;

  before(() => {
    // The rule reads Nx's project graph; without it the rule would silently skip.
    execFileSync(
      process.execPath,
      [resolve(ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    eslint = new ESLint({ cwd: ROOT });
  });

  it('fails when one service imports another service’s code', async () => {
    const errors = await boundaryErrors(
      eslint,
      'libs/router/src/index.ts',
      "import { IngressPipeline } from '@aigw/ingress';\nexport const leak = IngressPipeline;\n",
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0], /scope:router/);
  });

  it('fails when a shared lib imports a service', async () => {
    const errors = await boundaryErrors(
      eslint,
      'libs/contracts/src/index.ts',
      "import { FailoverRouter } from '@aigw/router';\nexport const leak = FailoverRouter;\n",
    );
    assert.equal(errors.length, 1);
  });

  it('lets a service use shared libs and the all-in-one gateway use every service', async () => {
    assert.deepEqual(
      await boundaryErrors(
        eslint,
        'libs/router/src/index.ts',
        "import { parseGatewayConfig } from '@aigw/config';\nexport const ok = parseGatewayConfig;\n",
      ),
      [],
    );
    assert.deepEqual(
      await boundaryErrors(
        eslint,
        'apps/gateway/src/gateway.module.ts',
        "import { FailoverRouter } from '@aigw/router';\nimport { IngressModule } from '@aigw/ingress';\nexport const ok = [FailoverRouter, IngressModule];\n",
      ),
      [],
    );
  });
});
