// Identity problems in the configuration (a JWT route whose callers would all be
// "anonymous", a provider without audiences) are logged by every process that identifies
// callers, at start and on each reload that brings them.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-identity-warnings-'));

/** A JWT route; `sound` maps the user header from a claim and lists audiences. */
function configText(route: string, sound: boolean): string {
  return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: ${route}}
spec:
  backends: [{name: b, provider: local, model: m}]
  userIdentification: {header: x-user-id}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: auth}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: ${route}}]
  jwt:
    providers:
    - name: corp
      issuer: https://issuer.test
${sound ? '      audiences: [ai-gateway]\n' : ''}      remoteJWKS: {uri: "http://127.0.0.1:9/jwks.json"}
      claimToHeaders:
${sound ? '      - {claim: sub, header: x-user-id}\n' : ''}      - {claim: plan, header: x-user-plan}
`;
}

/** Saves the way editors and ConfigMap updates do: a whole new file renamed over the old. */
function save(path: string, text: string): void {
  const temp = `${path}.${process.hrtime.bigint()}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

async function logged(app: AppProcess, pattern: RegExp): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (pattern.test(app.output())) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const anonymous = (route: string) =>
  new RegExp(
    `"level":"warn".*identity: route \\\\"${route}\\\\" requires JWT, but identifies users by header x-user-id`,
  );
const noAudiences = /"level":"warn".*config: .*JWT provider \\"corp\\" has no audiences/;

describe('identity configuration warnings, split ingress and all-in-one gateway', () => {
  const started: AppProcess[] = [];
  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const app of ['ingress', 'gateway'] as const) {
    it(`${app}: at start, and on a reload that brings them`, async () => {
      const path = join(dir, `${app}.yaml`);
      save(path, configText('at-start', false));
      const process = await startApp(app, {
        AI_GATEWAY_CONFIG: path,
        AI_GATEWAY_DATA_DIR: join(dir, `${app}-data`),
        // The split ingress starts without its router (readiness says so); nothing is sent.
        ...(app === 'ingress' ? { ROUTER_URL: 'http://127.0.0.1:9' } : {}),
      });
      started.push(process);
      assert.ok(await logged(process, anonymous('at-start')), process.output().slice(-3000));
      assert.ok(await logged(process, noAudiences));

      save(path, configText('after-reload', true));
      assert.ok(await logged(process, /config reloaded/));
      assert.doesNotMatch(process.output(), anonymous('after-reload'), 'a sound edit is quiet');

      save(path, configText('after-reload', false));
      assert.ok(await logged(process, anonymous('after-reload')), process.output().slice(-3000));
    });
  }
});
