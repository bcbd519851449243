import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { poolStatesOf } from './upstream-http';

test('tells, per origin, the connections open and busy and the calls waiting for one', async () => {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => void held.push(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ connections: 2 });
  try {
    assert.deepEqual(poolStatesOf(agent), []);
    // Three calls held open by the server: two on the two connections, one waiting.
    const calls = [1, 2, 3].map(() => request(origin, { dispatcher: agent }));
    for (let i = 0; i < 50 && held.length < 2; i++) await sleep(10);
    assert.deepEqual(poolStatesOf(agent), [{ origin, open: 2, busy: 2, waiting: 1 }]);
    for (const response of held.splice(0)) response.end('ok');
    for (let i = 0; i < 50 && held.length < 1; i++) await sleep(10);
    held.splice(0).forEach((response) => response.end('ok'));
    for (const call of calls) await (await call).body.text();
    assert.deepEqual(poolStatesOf(agent), [{ origin, open: 2, busy: 0, waiting: 0 }]);
  } finally {
    await agent.close();
    server.closeAllConnections();
    server.close();
  }
});
