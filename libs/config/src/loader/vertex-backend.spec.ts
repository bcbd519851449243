// Provider vertex: project and location on the backend, auth by service-account key or none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinPrice, catalogProviderId } from '../domain/builtin-prices';
import { canonicalProvider, providerFromBackendName } from '../domain/providers';
import { parseGatewayConfig } from './load-config';

const HEAD =
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n  backends:\n';
const KEY_JSON =
  '{"type":"service_account","client_email":"a@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----"}';

function load(backend: string, env: Record<string, string> = {}) {
  return parseGatewayConfig(`${HEAD}${backend}`, {
    missingSecrets: 'error',
    env,
    sourceName: 'gw.yaml',
  });
}

function errorsOf(backend: string): string[] {
  const result = load(backend);
  assert.equal(result.ok, false, 'expected the file to be rejected');
  return result.ok ? [] : result.errors.map((e) => e.format());
}

describe('vertex backends', () => {
  it('reads project and location, aliases included, and asks the metadata server without auth', () => {
    for (const provider of ['vertex', 'vertex-ai', 'google-vertex']) {
      const result = load(
        `  - {name: v, provider: ${provider}, model: gemini-2.5-flash, project: proj-1, location: global}\n`,
      );
      assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
      const backend = result.config.routes[0].backends[0];
      assert.equal(backend.provider, 'vertex');
      assert.deepEqual(backend.vertex, { project: 'proj-1', location: 'global' });
      assert.deepEqual(backend.auth, { kind: 'none' });
    }
  });

  it('takes the project by its number, quoted or not, as Vertex URLs do', () => {
    for (const project of ['123456789012', '"123456789012"']) {
      const result = load(
        `  - {name: v, provider: vertex, model: gemini-2.5-flash, project: ${project}, location: us-central1}\n`,
      );
      assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
      assert.deepEqual(result.config.routes[0].backends[0].vertex, {
        project: '123456789012',
        location: 'us-central1',
      });
    }
    assert.match(
      errorsOf(
        '  - {name: v, provider: vertex, model: m, project: "0123456", location: global}\n',
      )[0],
      /project: expected a Google Cloud project id/,
    );
  });

  it('takes a service-account key through apiKeyRef', () => {
    const result = load(
      '  - name: v\n    provider: vertex\n    model: claude-sonnet-4-5@20250929\n    project: proj-1\n    location: us-east5\n    auth: {apiKeyRef: {name: gcp-sa, key: json}}\n',
      { AI_GATEWAY_SECRET_GCP_SA_JSON: KEY_JSON },
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
    const auth = result.config.routes[0].backends[0].auth;
    assert.equal(auth.kind, 'apiKey');
    assert.equal(auth.kind === 'apiKey' && auth.apiKey?.reveal(), KEY_JSON);
  });

  it('refuses a secret that is not a service-account key, without showing it', () => {
    const result = load(
      '  - name: v\n    provider: vertex\n    model: m\n    project: proj-1\n    location: us-central1\n    auth: {apiKeyRef: {name: gcp-sa}}\n',
      { AI_GATEWAY_SECRET_GCP_SA_APIKEY: 'sk-a-plain-api-key' },
    );
    assert.equal(result.ok, false);
    const [line] = !result.ok ? result.errors.map((e) => e.format()) : [];
    assert.match(
      line,
      /spec\.backends\[0\]\.auth\.apiKeyRef: backend "v": secret "gcp-sa" key "apiKey" is not a service-account key/,
    );
    assert.ok(!line.includes('sk-a-plain'));
  });

  it('requires project and location, naming their paths', () => {
    const errors = errorsOf('  - {name: v, provider: vertex, model: gemini-2.5-flash}\n');
    assert.equal(errors.length, 2);
    assert.match(errors[0], /spec\.backends\[0\]\.project: is required for provider vertex/);
    assert.match(errors[1], /spec\.backends\[0\]\.location: is required for provider vertex/);
  });

  it('refuses a malformed project or location (the location becomes part of the host)', () => {
    const errors = errorsOf(
      '  - {name: v, provider: vertex, model: m, project: "Proj_1", location: "evil.com/x"}\n',
    );
    assert.equal(errors.length, 2);
    assert.match(
      errors.join('\n'),
      /spec\.backends\[0\]\.project: expected a Google Cloud project id/,
    );
    assert.match(
      errors.join('\n'),
      /spec\.backends\[0\]\.location: expected a Google Cloud region/,
    );
  });

  it('refuses project and location on other providers, and API-key headers on vertex', () => {
    const [onOther] = errorsOf('  - {name: o, provider: openai, model: gpt-4o, project: proj-1}\n');
    assert.match(
      onOther,
      /spec\.backends\[0\]\.project: applies only to provider vertex \(not openai\)/,
    );
    const result = load(
      '  - name: v\n    provider: vertex\n    model: m\n    project: proj-1\n    location: us-central1\n    auth: {apiKeyRef: {name: gcp-sa}, headerName: x-key}\n',
      { AI_GATEWAY_SECRET_GCP_SA_APIKEY: KEY_JSON },
    );
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.errors[0].format() : '',
      /spec\.backends\[0\]\.auth: headerName and headerPrefix do not apply to provider vertex/,
    );
  });

  it('infers vertex from a backend name and prices it from the catalog’s Google provider', () => {
    assert.equal(providerFromBackendName('vertex-claude'), 'vertex');
    assert.equal(providerFromBackendName('vertex-gemini'), 'vertex');
    assert.equal(canonicalProvider('VertexAI'), 'vertex');
    assert.equal(catalogProviderId('vertex'), 'google');
    // Gemini and Claude on Vertex, version suffix and all, at their list prices.
    assert.equal(builtinPrice('vertex', 'gemini-2.5-flash')?.inputPer1k, 0.0003);
    assert.equal(builtinPrice('vertex', 'claude-sonnet-4-5@20250929')?.outputPer1k, 0.015);
  });
});
