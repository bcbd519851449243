// YAML merge keys (`<<: *defaults`), as kubectl and Helm read them: shared backend settings
// written once, each backend's own keys winning over the merged ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadedOf } from './loaded-config-fixture';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

const ROUTE_HEAD =
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n';

describe('YAML merge keys', () => {
  it('merge a shared mapping into each backend; a backend key overrides the merged one', () => {
    const text =
      `${ROUTE_HEAD}  backends:\n` +
      '  - &openai\n    name: primary\n    provider: openai\n    model: gpt-4\n    requestTimeout: 90s\n' +
      '  - <<: *openai\n    name: secondary\n    priority: 1\n    requestTimeout: 2m\n';
    const result = loadedOf(text, options);
    const [primary, secondary] = result.config.routes[0].backends;
    assert.equal(primary.name, 'primary');
    assert.equal(primary.requestTimeoutMs, 90_000);
    assert.equal(secondary.name, 'secondary');
    assert.equal(secondary.provider, 'openai');
    assert.equal(secondary.model, 'gpt-4');
    assert.equal(secondary.priority, 1);
    assert.equal(secondary.requestTimeoutMs, 120_000);
  });

  it('a merged key that is no field is still an unknown field', () => {
    const text =
      `${ROUTE_HEAD}  backends:\n` +
      '  - &openai {name: primary, provider: openai, model: gpt-4}\n' +
      '  - <<: [*openai, {modle: x}]\n    name: secondary\n';
    const errors = refusalsOf(text, options);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /spec\.backends\[1\]\.modle: unknown field/);
  });
});
