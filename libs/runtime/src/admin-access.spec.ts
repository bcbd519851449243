import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  adminAccessFrom,
  checkAdminAccess,
  isThisHostCaller,
  type AdminAccess,
} from './admin-access';
import { AdminServer, type AdminRefusal } from './admin-server';
import { StartupError } from './listen';

const TOKEN = 'an-operator-token-of-some-length';

function request(
  headers: Record<string, string>,
  remoteAddress: string | undefined = '127.0.0.1',
): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

/** A request whose socket has no address (closed before it was read). */
const addressless = { headers: {}, socket: {} } as unknown as IncomingMessage;

describe('admin access', () => {
  it('without a token: this host only, by IPv4, IPv6 or mapped loopback', () => {
    const access = adminAccessFrom({});
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      assert.deepEqual(checkAdminAccess(access, request({}, address)), { allowed: true }, address);
    }
    for (const address of ['10.0.0.7', '::ffff:10.0.0.7', 'fe80::1', undefined]) {
      const verdict = checkAdminAccess(access, address ? request({}, address) : addressless);
      assert.equal(verdict.allowed, false, address);
      assert.equal(!verdict.allowed && verdict.status, 403);
      assert.match(!verdict.allowed ? verdict.message : '', /AI_GATEWAY_ADMIN_TOKEN/);
    }
  });

  it('without a token: a proxy relaying from loopback does not make its remote caller local', () => {
    const access = adminAccessFrom({});
    // An Istio sidecar hands the app every inbound connection from 127.0.0.6, whoever sent it.
    for (const address of ['127.0.0.6', '::ffff:127.0.0.6', '127.8.9.10']) {
      const verdict = checkAdminAccess(access, request({}, address));
      assert.equal(verdict.allowed, false, address);
      assert.equal(!verdict.allowed && verdict.reason, 'remote', address);
    }
    // A reverse proxy on this host connects from 127.0.0.1 and names its client in a header.
    const proxyHeaders: Record<string, string>[] = [
      { 'x-forwarded-for': '203.0.113.9' },
      { 'x-forwarded-for': '127.0.0.1' },
      { forwarded: 'for=203.0.113.9' },
      { 'x-real-ip': '203.0.113.9' },
      { 'x-envoy-external-address': '203.0.113.9' },
    ];
    for (const headers of proxyHeaders) {
      const verdict = checkAdminAccess(access, request(headers, '127.0.0.1'));
      assert.equal(verdict.allowed, false, JSON.stringify(headers));
      assert.equal(!verdict.allowed && verdict.status, 403, JSON.stringify(headers));
    }
    // With a token, the token alone decides: a proxy in front is fine.
    const withToken = adminAccessFrom({ AI_GATEWAY_ADMIN_TOKEN: TOKEN });
    const proxied = { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${TOKEN}` };
    assert.deepEqual(checkAdminAccess(withToken, request(proxied, '127.0.0.6')), {
      allowed: true,
    });
  });

  it('without a token: a page whose DNS name was rebound to 127.0.0.1 is not this host', () => {
    const access = adminAccessFrom({});
    // A browser sends no Origin on a same-origin GET, so a page at rebind.attacker.example
    // whose name now resolves to 127.0.0.1 would read GET routes; its Host header tells.
    for (const host of [
      'rebind.attacker.example:9901',
      'rebind.attacker.example',
      'localhost.attacker.example',
    ]) {
      const verdict = checkAdminAccess(access, request({ host }, '127.0.0.1'));
      assert.equal(verdict.allowed, false, host);
      assert.equal(!verdict.allowed && verdict.status, 403, host);
      assert.equal(isThisHostCaller(request({ host }, '127.0.0.1')), false, host);
    }
    for (const host of [
      'localhost:9901',
      'LOCALHOST',
      '127.0.0.1:9901',
      '[::1]:9901',
      '10.0.0.7:9901',
    ]) {
      assert.deepEqual(checkAdminAccess(access, request({ host }, '::1')), { allowed: true }, host);
    }
  });

  it("a browser is this host's caller only from this host's own page (same origin)", () => {
    // With AI_GATEWAY_CORS_ORIGINS set, another site's page could read the answer.
    const other = { origin: 'https://evil.example', host: 'localhost:8080' };
    assert.equal(isThisHostCaller(request(other, '127.0.0.1')), false);
    const own = { origin: 'http://localhost:8080', host: 'localhost:8080' };
    assert.equal(isThisHostCaller(request(own, '127.0.0.1')), true);
    assert.equal(isThisHostCaller(request({ origin: 'null', host: 'localhost:8080' })), false);
  });

  it('with a token: the bearer of it, from anywhere, and nobody else', () => {
    const access = adminAccessFrom({ AI_GATEWAY_ADMIN_TOKEN: TOKEN });
    const bearer = (value: string, address = '10.0.0.7') =>
      checkAdminAccess(access, request({ authorization: value }, address));
    assert.deepEqual(bearer(`Bearer ${TOKEN}`), { allowed: true });
    assert.deepEqual(bearer(`bearer ${TOKEN}`), { allowed: true });
    for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN, 'Bearer', '']) {
      const verdict = bearer(wrong);
      assert.equal(verdict.allowed, false, wrong);
      assert.equal(!verdict.allowed && verdict.status, 401, wrong);
    }
    // A token set means this host needs it too.
    assert.equal(checkAdminAccess(access, request({})).allowed, false);
  });

  it('refuses a browser, token or not', () => {
    const origin = { origin: 'https://evil.example' };
    const open: AdminAccess = { kind: 'loopback' };
    const verdict = checkAdminAccess(open, request(origin));
    assert.equal(verdict.allowed, false);
    assert.equal(!verdict.allowed && verdict.reason, 'browser');
    const withToken = adminAccessFrom({ AI_GATEWAY_ADMIN_TOKEN: TOKEN });
    const authorized = { ...origin, authorization: `Bearer ${TOKEN}` };
    assert.equal(checkAdminAccess(withToken, request(authorized)).allowed, false);
  });

  it('refuses a short token at start without echoing it', () => {
    assert.throws(
      () => adminAccessFrom({ AI_GATEWAY_ADMIN_TOKEN: 'hunter2' }),
      (error: Error) =>
        error instanceof StartupError &&
        /at least 16/.test(error.message) &&
        !error.message.includes('hunter2'),
    );
    assert.deepEqual(adminAccessFrom({ AI_GATEWAY_ADMIN_TOKEN: '  ' }), { kind: 'loopback' });
  });
});

describe('the admin port guards operator routes, not health or metrics', () => {
  const refusals: AdminRefusal[] = [];
  let calls = 0;
  const server = new AdminServer({
    metrics: async () => 'metric 1\n',
    metricsContentType: 'text/plain',
    ready: async () => ({ ready: true, checks: {} }),
    routes: [
      {
        method: 'POST',
        path: /^\/admin\/act$/,
        handle: async () => {
          calls++;
          return { status: 202, body: { done: true } };
        },
      },
    ],
    access: adminAccessFrom({ AI_GATEWAY_ADMIN_TOKEN: TOKEN }),
    onRefused: (refusal) => refusals.push(refusal),
  });
  let base = '';
  before(async () => {
    base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  after(() => server.close());

  it('answers the token, refuses the rest with 401 and a log entry, serves metrics to all', async () => {
    const act = (headers: Record<string, string>) =>
      fetch(`${base}/admin/act`, { method: 'POST', headers, body: '{}' });

    const refused = await act({});
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
    assert.equal(
      ((await refused.json()) as { error: { type: string } }).error.type,
      'authentication_error',
    );
    assert.equal(calls, 0);
    assert.deepEqual(
      refusals.map((r) => [r.path, r.reason]),
      [['/admin/act', 'token']],
    );
    assert.ok(!JSON.stringify(refusals).includes(TOKEN));

    const browser = await act({ authorization: `Bearer ${TOKEN}`, origin: 'https://x.example' });
    assert.equal(browser.status, 403);
    assert.equal(((await browser.json()) as { error: { type: string } }).error.type, 'forbidden');
    assert.equal(calls, 0);

    const allowed = await act({ authorization: `Bearer ${TOKEN}` });
    assert.equal(allowed.status, 202);
    assert.equal(calls, 1);

    assert.equal((await fetch(`${base}/metrics`)).status, 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });
});
