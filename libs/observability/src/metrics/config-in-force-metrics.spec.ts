// Which config a process runs and whether the file on disk is it: the reload counter alone
// cannot say (a rejected edit is counted once, then nothing while it stays on disk).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from './metrics-registry';

const fresh = () => new MetricsRegistry({ collectDefaultMetrics: false });
const lines = async (m: MetricsRegistry, name: string) =>
  (await m.metrics()).split('\n').filter((line) => line.startsWith(name));

describe('MetricsRegistry: the config in force', () => {
  it('says whether the last reload was applied, until the next one', async () => {
    const m = fresh();
    assert.deepEqual(await lines(m, 'ai_gateway_config_last_reload_successful'), [
      'ai_gateway_config_last_reload_successful 1',
    ]);
    m.recordConfigReload(false, 'file_event', 'a'.repeat(64), false);
    assert.deepEqual(await lines(m, 'ai_gateway_config_last_reload_successful'), [
      'ai_gateway_config_last_reload_successful 0',
    ]);
    m.recordConfigReload(true, 'poll', 'b'.repeat(64), true);
    assert.deepEqual(await lines(m, 'ai_gateway_config_last_reload_successful'), [
      'ai_gateway_config_last_reload_successful 1',
    ]);
  });

  it('stays 0 while a rejected file stays on disk, its keys reloaded meanwhile', async () => {
    const m = fresh();
    m.recordConfigReload(false, 'file_event', 'a'.repeat(64), false);
    m.recordConfigReload(true, 'secrets_watch', 'a'.repeat(64), false);
    assert.deepEqual(await lines(m, 'ai_gateway_config_last_reload_successful'), [
      'ai_gateway_config_last_reload_successful 0',
    ]);
    assert.match(
      (
        await lines(m, 'ai_gateway_config_reloads_total{result="success",trigger="secrets_watch"}')
      )[0] ?? '',
      / 1$/,
      'the reload itself is counted a success',
    );
  });

  it("shows the digest of the config in force, one series, the rejected file's never", async () => {
    const m = fresh();
    m.recordConfigInForce('a'.repeat(64));
    assert.deepEqual(await lines(m, 'ai_gateway_config_info'), [
      `ai_gateway_config_info{digest="${'a'.repeat(64)}"} 1`,
    ]);
    m.recordConfigReload(true, 'file_event', 'b'.repeat(64), true);
    m.recordConfigReload(false, 'file_event', 'b'.repeat(64), false);
    assert.deepEqual(await lines(m, 'ai_gateway_config_info'), [
      `ai_gateway_config_info{digest="${'b'.repeat(64)}"} 1`,
    ]);
  });
});
