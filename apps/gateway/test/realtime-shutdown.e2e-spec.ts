// A gateway stopping (SIGTERM) ends its open Realtime sessions: each client gets a close
// frame (1001, going away) and the process exits without waiting for the sessions to end;
// a response still running is cancelled at the backend and billed first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRealtime, FakeRealtimeUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { analyticsRows } from './analytics-rows';

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

  it('closes each open session with 1001 and exits promptly, billing the response it cancels', async () => {
    const url = `${gateway!.baseUrl.replace(/^http/, 'ws')}/v1/realtime?model=voice`;
    const client = await connectRealtime(url, { 'x-user-id': 'stopper' });
    await client.next('session.created');
    // A second session in the middle of a response: it is cancelled, and its usage billed.
    backend.holdResponses = true;
    const talking = await connectRealtime(url, { 'x-user-id': 'stopped-mid-answer' });
    await talking.next('session.created');
    talking.socket.send(JSON.stringify({ type: 'response.create' }));
    await talking.next('response.output_audio_transcript.delta');
    const ended = await gateway!.stop();
    gateway = undefined;
    const closed = await client.closed;
    assert.equal(closed.code, 1001, 'a close frame, not a dropped socket (1006)');
    const error = client.events.find((event) => event.type === 'error');
    assert.equal((error?.error as { code?: string })?.code, 'gateway_shutting_down');
    // Exited by itself, not at the stop's 5 s SIGKILL (a session left open would hold it).
    assert.deepEqual(ended, { code: 0, signal: null });
    assert.equal((await talking.closed).code, 1001);
    assert.deepEqual(
      backend.received.map((event) => event.type),
      ['response.create', 'response.cancel'],
    );
    const billed = await analyticsRows<{ input: number }>(
      join(dir, 'data'),
      'SELECT input_tokens AS input FROM usage_events WHERE user_id = ?',
      'stopped-mid-answer',
      1,
    );
    assert.deepEqual(
      billed.map((row) => row.input),
      [1000],
    );
  });
});
