// A gateway stopping (SIGTERM) ends its open Realtime sessions: each client gets a close
// frame (1001, going away) and the process exits without waiting for the sessions to end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRealtime, FakeRealtimeUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

describe('all-in-one gateway: /v1/realtime at shutdown', () => {
  const backend = new FakeRealtimeUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-realtime-stop-'));
  let gateway: AppProcess | undefined;

  before(async () => {
    await backend.start();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: realtime}
spec:
  backends:
  - {name: openai-rt, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  userIdentification: {header: x-user-id}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
    });
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
    await backend.stop();
  });

  it('closes each open session with 1001 and exits promptly', async () => {
    const url = `${gateway!.baseUrl.replace(/^http/, 'ws')}/v1/realtime?model=voice`;
    const client = await connectRealtime(url, { 'x-user-id': 'stopper' });
    await client.next('session.created');
    const ended = await gateway!.stop();
    gateway = undefined;
    const closed = await client.closed;
    assert.equal(closed.code, 1001, 'a close frame, not a dropped socket (1006)');
    const error = client.events.find((event) => event.type === 'error');
    assert.equal((error?.error as { code?: string })?.code, 'gateway_shutting_down');
    // Exited by itself, not at the stop's 5 s SIGKILL (a session left open would hold it).
    assert.deepEqual(ended, { code: 0, signal: null });
  });
});
