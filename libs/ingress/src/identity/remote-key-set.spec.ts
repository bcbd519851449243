import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { until } from '@aigw/testing';
import { TestIssuer } from '@aigw/testing/jwks';
import { RemoteKeySet, type KeyFetchResult, type KeySetTiming } from './remote-key-set';

const TIMING: KeySetTiming = {
  cooldownMs: 0,
  minAttemptIntervalMs: 5_000,
  refreshIntervalMs: 300_000,
  // Far past a loaded machine's pauses, so a key set answered at once is never a timeout;
  // the two cases that time out wait it.
  fetchTimeoutMs: 2_000,
};

/** Until `done` holds: a background fetch has been heard. */
const heardOut = (done: () => boolean) => until('the fetch is told', done, { everyMs: 10 });

describe('RemoteKeySet: every fetch of the key set is told, background refreshes included', () => {
  type Answer =
    | 'keys'
    | 'status-503'
    | 'not-a-key-set'
    | 'oversized'
    | 'oversized-chunked'
    | 'hang'
    | 'stall-body';
  let answer: Answer = 'keys';
  let issuer: TestIssuer;
  let fetches = 0;
  const held: ServerResponse[] = [];
  const server = createServer((_request, response) => {
    fetches += 1;
    if (answer === 'keys') response.end(JSON.stringify({ keys: [issuer.publicJwk] }));
    else if (answer === 'status-503') response.writeHead(503).end();
    else if (answer === 'not-a-key-set') response.end('<html>maintenance</html>');
    else if (answer === 'oversized-chunked') {
      // No length said up front: the bound holds while reading.
      response.write(`{"keys": [${JSON.stringify(issuer.publicJwk)}], "pad": "`);
      for (let i = 0; i < 32; i++) response.write('x'.repeat(64 * 1024));
      response.end('"}');
    } else if (answer === 'oversized') {
      // A key set, padded past any real one: read whole, it would be held in memory.
      response.end(JSON.stringify({ keys: [issuer.publicJwk], pad: 'x'.repeat(2 * 1024 * 1024) }));
    } else if (answer === 'stall-body') {
      response.writeHead(200).write('{"keys": [');
      held.push(response);
    } else held.push(response);
  });
  let url: string;
  let clock: number;
  let heard: KeyFetchResult[];
  let keys: RemoteKeySet;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    issuer = await TestIssuer.create('https://auth.test.local', 'ai-gateway');
  });
  beforeEach(() => {
    answer = 'keys';
    clock = 1_000_000;
    heard = [];
    keys = new RemoteKeySet(url, TIMING, {
      now: () => clock,
      onFetch: (result) => heard.push(result),
    });
  });
  after(async () => {
    for (const response of held) response.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const verify = async () => jwtVerify(await issuer.sign({ sub: 'alice' }), keys.getKey);

  it('tells a failed background refresh, while the cached keys go on verifying', async () => {
    await verify();
    assert.deepEqual(heard, ['ok']);

    answer = 'status-503';
    clock += TIMING.refreshIntervalMs;
    keys.refreshIfStale();
    await heardOut(() => heard.length === 2);
    assert.deepEqual(heard, ['ok', 'bad_response']);
    await verify(); // the provider is down: the keys already fetched still serve

    answer = 'hang';
    clock += TIMING.minAttemptIntervalMs;
    keys.refreshIfStale();
    await heardOut(() => heard.length === 3);
    assert.deepEqual(heard, ['ok', 'bad_response', 'timeout']);
  });

  it('takes a 200 that holds no key set for a failure, so the refresh is retried after the floor', async () => {
    await verify();
    answer = 'not-a-key-set';
    clock += TIMING.refreshIntervalMs;
    keys.refreshIfStale();
    await heardOut(() => heard.length === 2);
    assert.deepEqual(heard, ['ok', 'bad_response']);

    // Not a success: the next refresh comes after the attempt floor, not a whole interval.
    answer = 'keys';
    const before = fetches;
    clock += TIMING.minAttemptIntervalMs;
    keys.refreshIfStale();
    await heardOut(() => heard.length === 3);
    assert.deepEqual(heard, ['ok', 'bad_response', 'ok']);
    assert.equal(fetches, before + 1);
  });

  it('tells a key set whose body stalls past the fetch timeout as a timeout', async () => {
    answer = 'stall-body';
    await assert.rejects(verify);
    assert.deepEqual(heard, ['timeout']);
  });

  it('refuses a key set past the size bound without holding it, as a bad response', async () => {
    answer = 'oversized';
    await assert.rejects(verify);
    assert.deepEqual(heard, ['bad_response']);
    answer = 'oversized-chunked';
    clock += TIMING.minAttemptIntervalMs;
    await assert.rejects(verify);
    assert.deepEqual(heard, ['bad_response', 'bad_response']);
  });

  it('tells an unreachable provider, and nothing for an attempt the floor held back', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const hosts: string[] = [];
    keys = new RemoteKeySet(`http://127.0.0.1:${port}/jwks.json?tenant=a`, TIMING, {
      now: () => clock,
      onFetch: (result, jwksHost) => {
        heard.push(result);
        hosts.push(jwksHost);
      },
    });
    await assert.rejects(verify);
    await assert.rejects(verify); // within the floor: not fetched, so not told
    assert.deepEqual(heard, ['unreachable']);
    assert.deepEqual(hosts, [`127.0.0.1:${port}`], 'the key server, without path or query');
  });
});
