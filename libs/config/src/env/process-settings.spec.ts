import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProcessSettings } from './process-settings';

describe('parseProcessSettings', () => {
  it('defaults: quickstart config, 8080/9901, ./data, everything embedded', () => {
    const result = parseProcessSettings({});
    assert.ok(result.ok);
    assert.deepEqual(result.settings, {
      configPath: 'config/quickstart.yaml',
      port: 8080,
      adminPort: 9901,
      dataDir: './data',
    });
  });

  it('reads every variable', () => {
    const result = parseProcessSettings({
      AI_GATEWAY_CONFIG: '/etc/gw.yaml',
      PORT: '3000',
      ADMIN_PORT: '3001',
      AI_GATEWAY_SECRETS_DIR: '/var/run/secrets/gw',
      AI_GATEWAY_DATA_DIR: '/var/lib/gw',
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      REDIS_URL: 'redis://redis:6379',
      CLICKHOUSE_URL: 'http://clickhouse:8123',
    });
    assert.ok(result.ok);
    assert.equal(result.settings.port, 3000);
    assert.deepEqual(result.settings.kafkaBrokers, ['kafka-1:9092', 'kafka-2:9092']);
    assert.equal(result.settings.secretsDir, '/var/run/secrets/gw');
  });

  it('a bad port is a one-line error naming the variable', () => {
    assert.deepEqual(parseProcessSettings({ PORT: 'eighty' }), {
      ok: false,
      errors: ['PORT: expected a port number 0-65535 (0 picks a free port)'],
    });
    assert.deepEqual(parseProcessSettings({ ADMIN_PORT: '70000' }), {
      ok: false,
      errors: ['ADMIN_PORT: expected a port number 0-65535 (0 picks a free port), got 70000'],
    });
    assert.deepEqual(parseProcessSettings({ PORT: '9901' }), {
      ok: false,
      errors: ['ADMIN_PORT: must differ from PORT (both are 9901)'],
    });
  });

  it('never echoes a URL (it may carry a password)', () => {
    const result = parseProcessSettings({ REDIS_URL: 'http://user:hunter2@redis' });
    assert.ok(!result.ok);
    assert.equal(result.errors.join('\n').includes('hunter2'), false);
  });
});
