// The loader does no environment interpolation: a "${VAR}" left in the file (written for
// envsubst, or a template never rendered) would be sent on as written, so it is a warning.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { loadedOf } from './loaded-config-fixture';

const options = {
  missingSecrets: 'warn',
  env: { MODEL: 'gpt-4o' },
  sourceName: 'gw.yaml',
} as const;

describe('environment placeholders', () => {
  it('a ${VAR} in a value is kept as written and warned about, naming the field', () => {
    const result = loadedOf(
      'backends:\n- name: openai\n  provider: openai\n  model: ${MODEL}\n  auth: {type: None}\n',
      options,
    );
    assert.equal(result.config.routes[0].backends[0].model, '${MODEL}');
    assert.deepEqual(
      result.warnings.filter((w) => w.includes('interpolat')),
      [
        'gw.yaml:4: document 1 (AIGatewayRoute "default"): backends[0].model: holds ${MODEL}, which is kept as written: the gateway does not interpolate environment variables (render the file first, e.g. with envsubst)',
      ],
    );
  });

  it('metadata (labels, annotations for other tools) is not looked at', () => {
    const result = parseGatewayConfig(
      'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\n' +
        'metadata: {name: r, annotations: {rendered-by: "${TOOL}"}}\n' +
        'spec:\n  backends: [{name: openai, provider: openai, model: gpt-4o, auth: {type: None}}]\n',
      options,
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.warnings.filter((w) => w.includes('interpolat')),
      [],
    );
  });

  it('no warning without a placeholder', () => {
    const result = parseGatewayConfig(
      'backends:\n- {name: openai, provider: openai, model: gpt-4o, auth: {type: None}}\n',
      options,
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.warnings.filter((w) => w.includes('interpolat')),
      [],
    );
  });
});
