// apiKeyRef names where a key is kept, never the key: a key pasted there would be echoed in
// the "not found" error (and logged at every start and reload), so it is refused unshown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'error', env: {}, sourceName: 'gw.yaml' } as const;

const withRef = (ref: string) =>
  `backends:\n- name: openai\n  model: gpt-4o\n  auth:\n    apiKeyRef: ${ref}\n`;

describe('a key pasted into apiKeyRef', () => {
  it('is refused without being shown, in name or key', () => {
    const pasted = [
      'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z',
      'sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8t',
    ];
    for (const key of pasted) {
      for (const [ref, field] of [
        [`{name: ${key}}`, 'name'],
        [`{name: llm-keys, key: ${key}}`, 'key'],
      ] as const) {
        const errors = refusalsOf(withRef(ref), options);
        assert.deepEqual(errors, [
          `gw.yaml:5: document 1 (AIGatewayRoute "default"): backends[0].auth.apiKeyRef.${field}: looks like an API key itself: apiKeyRef names where the key is kept (a Secret's name and key, or the AI_GATEWAY_SECRET_<NAME>_<KEY> variable), never the key`,
        ]);
      }
    }
  });

  it('ordinary secret names still load', () => {
    for (const ref of [
      '{name: openai-key}',
      '{name: sk-keys, key: openai}',
      '{name: llm-credentials, key: openai-api-key}',
    ]) {
      const result = parseGatewayConfig(withRef(ref), { ...options, missingSecrets: 'warn' });
      assert.ok(result.ok, ref);
    }
  });
});

describe('a key pasted where a field name goes', () => {
  it('is named by its place, never shown (apiKeyRef: {KEY} is a mapping with the key as field)', () => {
    const key = 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z';
    const errors = refusalsOf(withRef(`{${key}}`), options);
    assert.deepEqual(errors, [
      'gw.yaml:5: document 1 (AIGatewayRoute "default"): backends[0].auth.apiKeyRef[<a name that looks like an API key>]: unknown field (expected one of: name, key, optional)',
      'gw.yaml:5: document 1 (AIGatewayRoute "default"): backends[0].auth.apiKeyRef.name: is required',
    ]);
  });

  it('inside a collection used as a field name ({{KEY}}), it is neither in the error nor in a process warning', async () => {
    const key = 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z';
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    let errors: string[];
    try {
      errors = refusalsOf(withRef(`{{${key}}}`), options);
      // Process warnings are emitted on a later tick.
      await new Promise((done) => setImmediate(done));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(errors, [
      'gw.yaml:5: document 1 (AIGatewayRoute "default"): backends[0].auth.apiKeyRef[<a name that looks like an API key>]: unknown field (expected one of: name, key, optional)',
      'gw.yaml:5: document 1 (AIGatewayRoute "default"): backends[0].auth.apiKeyRef.name: is required',
    ]);
    assert.deepEqual(
      warnings.filter((w) => w.includes('sk-proj')),
      [],
    );
  });

  it('an ordinary misspelt field is still named', () => {
    const errors = refusalsOf(withRef('{nmae: openai-key}'), options);
    assert.match(errors[0] ?? '', /backends\[0\]\.auth\.apiKeyRef\.nmae: unknown field/);
  });
});
