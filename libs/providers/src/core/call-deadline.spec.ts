import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { ProviderCall } from '@aigw/contracts/data-plane';
import { callDeadline } from './call-deadline';
import { sendUpstream } from './upstream-http';

const pendingTimers = () =>
  process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

describe('callDeadline', () => {
  it('aborts with a TimeoutError when the time is up', async () => {
    const deadline = callDeadline(new AbortController().signal, 20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(deadline.signal.aborted, true);
    assert.equal((deadline.signal.reason as Error).name, 'TimeoutError');
  });

  it("passes on the caller's abort with its reason", () => {
    const caller = new AbortController();
    const deadline = callDeadline(caller.signal, 60_000);
    caller.abort(new Error('client disconnected'));
    assert.equal((deadline.signal.reason as Error).message, 'client disconnected');
    deadline.release();
  });

  it('lets go of its timer on release, so a finished call holds nothing until its timeout', () => {
    const before = pendingTimers();
    const deadline = callDeadline(new AbortController().signal, 60_000);
    assert.equal(pendingTimers(), before + 1);
    deadline.release();
    assert.equal(pendingTimers(), before);
    assert.equal(deadline.signal.aborted, false);
  });

  it('is released by sendUpstream once the response body has been read', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    const base = await listen(server);
    const agent = new Agent();
    try {
      const call = {
        signal: new AbortController().signal,
        target: { backendName: 'b', requestTimeoutMs: 60_000, firstByteTimeoutMs: 60_000 },
      } as unknown as ProviderCall;
      const before = pendingTimers();
      for (let i = 0; i < 20; i++) {
        const response = await sendUpstream(call, { url: base, headers: {}, body: '{}' }, agent);
        assert.deepEqual(await response.body.json(), { ok: true });
      }
      // undici's own timers may come and go; 20 calls' worth of 60 s deadlines must not
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(pendingTimers() < before + 20, `${pendingTimers() - before} timers left behind`);
    } finally {
      await agent.close();
      server.close();
    }
  });
});
