import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { RedisSilence, RedisSilentError } from './redis-silence';

/** A client whose PINGs the test answers, one at a time. */
function fakeClient() {
  const pings: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const client = {
    status: 'ready' as Redis['status'],
    ping: () =>
      new Promise<'PONG'>((resolve, reject) =>
        pings.push({ resolve: () => resolve('PONG'), reject }),
      ),
  };
  return { client, pings };
}

const timedOut = () => Promise.reject(new Error('Command timed out'));
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RedisSilence', () => {
  it('a failure other than a timeout (Redis away, a script error) leaves commands going', async () => {
    const { client, pings } = fakeClient();
    const silence = new RedisSilence(client);
    await assert.rejects(silence.run(() => Promise.reject(new Error('Connection is closed.'))));
    assert.equal(silence.silent, false);
    assert.equal(await silence.run(async () => 'value'), 'value');
    assert.equal(pings.length, 0, 'nothing to probe');
  });

  it('after a timeout fails commands unsent until a PING is answered', async () => {
    const { client, pings } = fakeClient();
    const silence = new RedisSilence(client);
    await assert.rejects(silence.run(timedOut), /Command timed out/);
    assert.equal(silence.silent, true);
    let sent = false;
    await assert.rejects(
      silence.run(async () => (sent = true)),
      RedisSilentError,
    );
    assert.equal(sent, false, 'not sent while silent');
    assert.equal(pings.length, 1, 'one probe at a time');

    pings[0].resolve();
    await tick();
    assert.equal(silence.silent, false);
    assert.equal(await silence.run(async () => 'value'), 'value');
  });

  it('probes again after a probe failed, and stops once the client is closed', async () => {
    const { client, pings } = fakeClient();
    const silence = new RedisSilence(client);
    await assert.rejects(silence.run(timedOut));
    pings[0].reject(new Error('Command timed out'));
    await new Promise((resolve) => setTimeout(resolve, 400)); // past the pause between probes
    assert.equal(pings.length, 2, 'asked again');
    client.status = 'end';
    pings[1].reject(new Error('Connection is closed.'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(pings.length, 2, 'a closed client is not asked');
  });
});
