import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import WebSocket from 'ws';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  WIRE_PATHS,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type GatewayRequest,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { Logger, MetricsRegistry } from '@aigw/observability';
import { StartupError } from '../listen';
import { HttpRouterClient } from './http-router-client';
import {
  admitInternalCall,
  decodePeerError,
  INTERNAL_TOKEN_HEADER,
  internalAuthRefusal,
  InternalToken,
  internalTokenFrom,
  tokensMatch,
  wireAuthFor,
  type InternalAuthRefusal,
} from './internal-auth';
import { REALTIME_WIRE_PATH, serveRealtimeWire } from './realtime-wire';
import { registerRouterWire } from './router-wire-server';
import { createWireServer } from './wire-server';

const TOKEN = 'internal-token-0123456789abcdef';
const WRONG = 'someone-elses-token-0123456789';
const OLD = 'rotated-out-token-0123456789ab';

describe('internalTokenFrom (AI_GATEWAY_INTERNAL_TOKEN)', () => {
  it('is unset when the variable is absent or blank', () => {
    assert.equal(internalTokenFrom({}), undefined);
    assert.equal(internalTokenFrom({ AI_GATEWAY_INTERNAL_TOKEN: '  ' }), undefined);
  });

  it('refuses a token under 16 characters, saying its length and never the token', () => {
    assert.throws(
      () => internalTokenFrom({ AI_GATEWAY_INTERNAL_TOKEN: 'short-tok' }),
      (error: unknown) =>
        error instanceof StartupError &&
        /at least 16 characters \(it has 9\)/.test(error.message) &&
        !error.message.includes('short-tok'),
    );
  });

  it('refuses a token an HTTP header cannot carry, naming the fix and never the token', () => {
    for (const bad of [
      `${TOKEN}\nsecond-line`,
      `${TOKEN}\rx`,
      `tok\u0000${TOKEN}`,
      `${TOKEN}é`,
      `${TOKEN}🔑`,
    ]) {
      assert.throws(
        () => internalTokenFrom({ AI_GATEWAY_INTERNAL_TOKEN: bad }),
        (error: unknown) =>
          error instanceof StartupError &&
          /character an HTTP header cannot carry/.test(error.message) &&
          !error.message.includes(TOKEN),
        JSON.stringify(bad),
      );
    }
    // Spaces and tabs inside are fine in a header value.
    assert.ok(internalTokenFrom({ AI_GATEWAY_INTERNAL_TOKEN: `${TOKEN} with\tspaces` }));
  });

  it('takes a trimmed token of 16+ characters, which prints as [REDACTED]', () => {
    const token = internalTokenFrom({ AI_GATEWAY_INTERNAL_TOKEN: ` ${TOKEN}\n` });
    assert.ok(token);
    assert.deepEqual(token.headers(), { [INTERNAL_TOKEN_HEADER]: TOKEN });
    for (const printed of [String(token), JSON.stringify({ token }), inspect(token)]) {
      assert.ok(!printed.includes(TOKEN), printed);
      assert.match(printed, /REDACTED/);
    }
  });
});

describe('internalTokenFrom with AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS', () => {
  const refused = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(
      () => internalTokenFrom(env),
      (error: unknown) =>
        error instanceof StartupError &&
        pattern.test(error.message) &&
        !error.message.includes('\n') &&
        !error.message.includes(TOKEN) &&
        !error.message.includes(OLD),
      JSON.stringify(pattern.source),
    );

  it('accepts a previous token beside the current one, sending only the current one', () => {
    const token = internalTokenFrom({
      AI_GATEWAY_INTERNAL_TOKEN: TOKEN,
      AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: ` ${OLD}\n`,
    });
    assert.ok(token);
    assert.equal(token.acceptsPrevious, true);
    assert.deepEqual(token.headers(), { [INTERNAL_TOKEN_HEADER]: TOKEN });
    assert.equal(token.verdict(OLD), 'previous');
    assert.equal(token.verdict(TOKEN), 'ok');
    for (const printed of [String(token), JSON.stringify({ token }), inspect(token)]) {
      assert.ok(!printed.includes(OLD) && !printed.includes(TOKEN), printed);
    }
    // Blank is unset.
    const plain = internalTokenFrom({
      AI_GATEWAY_INTERNAL_TOKEN: TOKEN,
      AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: ' ',
    });
    assert.equal(plain?.acceptsPrevious, false);
    assert.equal(plain?.verdict(OLD), 'wrong');
  });

  it('refuses a previous token under the same rules as the token, naming its variable', () => {
    refused(
      { AI_GATEWAY_INTERNAL_TOKEN: TOKEN, AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: 'short-tok' },
      /^AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS must be at least 16 characters \(it has 9\)$/,
    );
    refused(
      { AI_GATEWAY_INTERNAL_TOKEN: TOKEN, AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: `${OLD}é` },
      /^AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS has a character an HTTP header cannot carry/,
    );
  });

  it('refuses a previous token equal to the current one, or set without one', () => {
    refused(
      { AI_GATEWAY_INTERNAL_TOKEN: TOKEN, AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: ` ${TOKEN}` },
      /^AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS is the same as AI_GATEWAY_INTERNAL_TOKEN/,
    );
    refused(
      { AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: OLD },
      /^AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS is set without AI_GATEWAY_INTERNAL_TOKEN/,
    );
    refused(
      { AI_GATEWAY_INTERNAL_TOKEN: '  ', AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: OLD },
      /is set without AI_GATEWAY_INTERNAL_TOKEN/,
    );
  });
});

describe('InternalToken.verdict and tokensMatch', () => {
  const token = new InternalToken(TOKEN);

  it('accepts the token, and tells a missing one from a wrong one', () => {
    assert.equal(token.verdict(TOKEN), 'ok');
    assert.equal(token.verdict(undefined), 'missing');
    assert.equal(token.verdict(''), 'missing');
    assert.equal(token.verdict(WRONG), 'wrong');
    assert.equal(token.verdict(`${TOKEN}x`), 'wrong');
    assert.equal(token.verdict(TOKEN.slice(0, -1)), 'wrong');
    assert.equal(token.verdict([TOKEN, TOKEN]), 'wrong');
    assert.equal(token.verdict(OLD), 'wrong', 'no previous token set');
  });

  it('tells the previous token from the current and from a wrong one', () => {
    const rotating = new InternalToken(TOKEN, OLD);
    assert.equal(rotating.verdict(TOKEN), 'ok');
    assert.equal(rotating.verdict(OLD), 'previous');
    assert.equal(rotating.verdict(WRONG), 'wrong');
    assert.equal(rotating.verdict(`${OLD}x`), 'wrong');
    assert.equal(rotating.verdict(undefined), 'missing');
    assert.equal(rotating.verdict([OLD, OLD]), 'wrong');
  });

  it('compares digests of equal length, so any length is compared without throwing', () => {
    const digest = createHash('sha256').update(TOKEN).digest();
    assert.equal(tokensMatch(TOKEN, digest), true);
    // timingSafeEqual on the raw strings would throw on a length mismatch (and leak it).
    assert.equal(tokensMatch('x', digest), false);
    assert.equal(tokensMatch('x'.repeat(10_000), digest), false);
  });
});

describe('refusals name the settings, never a token', () => {
  it("a peer's 401 is the gateway's misconfiguration: a 500 naming both settings of a rotation", () => {
    const error = decodePeerError({}, 401, 'router');
    assert.equal(error.httpStatus, 500);
    assert.match(error.message, /the router refused this service's internal token/);
    assert.match(error.message, /AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS/);
  });

  it('a wrong token is told it matches neither setting', () => {
    assert.match(
      internalAuthRefusal('wrong').message,
      /matches neither this service's AI_GATEWAY_INTERNAL_TOKEN nor its AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS/,
    );
    assert.equal(internalAuthRefusal('missing').httpStatus, 401);
  });
});

describe('wireAuthFor', () => {
  it('warns once at start when no token is set, and guards nothing', () => {
    const lines: string[] = [];
    const auth = wireAuthFor(undefined, 'router', {
      logger: new Logger({ write: (line) => lines.push(line) }),
      metrics: new MetricsRegistry({ collectDefaultMetrics: false }),
    });
    assert.equal(auth, undefined);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /"level":"warn".*AI_GATEWAY_INTERNAL_TOKEN is not set/);
  });

  it('counts and logs a refusal by service and reason, without the token sent', async () => {
    const lines: string[] = [];
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const auth = wireAuthFor(new InternalToken(TOKEN), 'provider-adapter', {
      logger: new Logger({ write: (line) => lines.push(line) }),
      metrics,
    });
    assert.ok(auth);
    assert.equal(lines.length, 0, 'no warning with a token set');
    auth.onRefused({ reason: 'wrong', path: '/wire/invoke', remoteAddress: '10.0.0.9' });
    const text = await metrics.metrics();
    assert.match(
      text,
      /ai_gateway_internal_auth_failures_total\{service="provider-adapter",reason="wrong"\} 1/,
    );
    assert.equal(lines.length, 1);
    const logged = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(logged.msg, 'refused an internal call without the right token');
    assert.equal(logged.level, 'warn');
    assert.equal(logged.reason, 'wrong');
    assert.equal(logged.path, '/wire/invoke');
    assert.ok(!lines.join('').includes(TOKEN));
  });
});

describe('wireAuthFor and admitInternalCall during a rotation', () => {
  it('counts calls with the previous token by service, lets them through, says so once at start', async () => {
    const lines: string[] = [];
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const auth = wireAuthFor(new InternalToken(TOKEN, OLD), 'router', {
      logger: new Logger({ write: (line) => lines.push(line) }),
      metrics,
    });
    assert.ok(auth);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /"level":"info".*AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS is set/);
    assert.equal(admitInternalCall(auth, OLD, '/wire/route', '10.0.0.1'), undefined);
    assert.equal(admitInternalCall(auth, OLD, '/wire/realtime', '10.0.0.1'), undefined);
    assert.equal(admitInternalCall(auth, TOKEN, '/wire/route', '10.0.0.1'), undefined);
    assert.equal(admitInternalCall(auth, WRONG, '/wire/route', '10.0.0.1'), 'wrong');
    assert.equal(admitInternalCall(auth, undefined, '/wire/route', '10.0.0.1'), 'missing');
    const text = await metrics.metrics();
    assert.match(text, /ai_gateway_internal_auth_previous_token_total\{service="router"\} 2\n/);
    assert.match(
      text,
      /ai_gateway_internal_auth_failures_total\{service="router",reason="wrong"\} 1/,
    );
    const logged = lines.join('');
    assert.ok(!logged.includes(TOKEN) && !logged.includes(OLD) && !logged.includes(WRONG));
  });
});

describe('a wire server with AI_GATEWAY_INTERNAL_TOKEN', () => {
  const refusals: InternalAuthRefusal[] = [];
  // Mid-rotation: OLD is the previous token, accepted and counted.
  const previous: string[] = [];
  const routed: GatewayRequest[] = [];
  const router: RouterPort = {
    route: (request) => {
      routed.push(request);
      return Promise.resolve({
        kind: 'json',
        status: 200,
        body: { id: 'c1', object: 'chat.completion', model: 'gpt-4', choices: [] },
        usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
        servedBy: { backend: 'b1', provider: 'vllm', model: 'm' },
      });
    },
    listModels: () => [],
  };
  const opened: unknown[] = [];
  const { fastify, served } = createWireServer({
    maxBodyBytes: 64 * 1024,
    auth: {
      token: new InternalToken(TOKEN, OLD),
      onRefused: (refusal) => refusals.push(refusal),
      onPrevious: (path) => previous.push(path),
    },
  });
  registerRouterWire(fastify, router);
  serveRealtimeWire(
    fastify.server,
    (message) => {
      opened.push(message);
      return Promise.reject(new DataPlaneError(DataPlaneErrorCode.ModelNotFound, 'no model'));
    },
    {
      token: new InternalToken(TOKEN, OLD),
      onRefused: (refusal) => refusals.push(refusal),
      onPrevious: (path) => previous.push(path),
    },
  );
  let base = '';

  before(async () => {
    const port = await served.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  after(() => served.close());

  /** A chat call routed by a peer sending `token`, its client closed after. */
  async function routeAs(token: string, requestId: string, stream = false) {
    const client = new HttpRouterClient({
      url: new URL(base),
      listModels: () => [],
      token: new InternalToken(token),
    });
    try {
      return await client.route(
        {
          requestId,
          operation: 'chat',
          requestedModel: 'gpt-4',
          stream,
          clientWantsStreamUsage: false,
          body: { model: 'gpt-4', messages: [] },
          caller: { userKey: 'alice' },
          allowedModels: [],
          forwardHeaders: {},
        },
        new AbortController().signal,
      );
    } finally {
      await client.close();
    }
  }

  const routeCall = (headers: Record<string, string>) =>
    fetch(`${base}${WIRE_PATHS.route}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        ...headers,
      },
      body: '{}',
    });

  it('refuses a call without the token: 401 in the wire error shape, nothing routed', async () => {
    refusals.length = 0;
    const response = await routeCall({});
    assert.equal(response.status, 401);
    assert.equal(response.headers.get(WIRE_VERSION_HEADER), WIRE_VERSION);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, DataPlaneErrorCode.Unauthenticated);
    assert.match(body.error.message, /x-aigw-internal-token/);
    assert.deepEqual(
      refusals.map(({ reason, path }) => ({ reason, path })),
      [{ reason: 'missing', path: WIRE_PATHS.route }],
    );
    assert.equal(routed.length, 0);
  });

  it('refuses a wrong token without echoing either token', async () => {
    refusals.length = 0;
    const response = await routeCall({ [INTERNAL_TOKEN_HEADER]: WRONG });
    assert.equal(response.status, 401);
    const text = await response.text();
    assert.ok(!text.includes(WRONG) && !text.includes(TOKEN), text);
    assert.equal(refusals[0]?.reason, 'wrong');
    assert.ok(!JSON.stringify(refusals).includes(WRONG));
    assert.equal(routed.length, 0);
  });

  it('serves a peer that sends the token (HttpRouterClient)', async () => {
    const answer = await routeAs(TOKEN, 'r1');
    assert.equal(answer.kind, 'json');
    assert.equal(routed.length, 1);
  });

  it('serves a peer still sending the previous token, counted as such; the health probe is not', async () => {
    previous.length = 0;
    refusals.length = 0;
    const before = routed.length;
    const answer = await routeAs(OLD, 'r-old');
    assert.equal(answer.kind, 'json');
    assert.equal(routed.length, before + 1);
    await fetch(`${base}${WIRE_PATHS.health}`, {
      headers: { [WIRE_VERSION_HEADER]: WIRE_VERSION },
    });
    assert.deepEqual(previous, [WIRE_PATHS.route]);
    assert.deepEqual(refusals, []);
  });

  it('turns a peer refusing our token into a 500 naming the variable, not a 401', async () => {
    await assert.rejects(
      routeAs(WRONG, 'r2', true),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 500 &&
        /AI_GATEWAY_INTERNAL_TOKEN/.test(error.message) &&
        !error.message.includes(WRONG),
    );
  });

  it('keeps the health probe open', async () => {
    const response = await fetch(`${base}${WIRE_PATHS.health}`, {
      headers: { [WIRE_VERSION_HEADER]: WIRE_VERSION },
    });
    assert.equal(response.status, 200);
  });

  it('refuses a Realtime upgrade without the token before opening anything', async () => {
    refusals.length = 0;
    const socket = new WebSocket(`${base.replace('http', 'ws')}${REALTIME_WIRE_PATH}`, {
      headers: {
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        'x-aigw-wire-message': Buffer.from('{}').toString('base64url'),
      },
    });
    const status = await new Promise<number>((resolve, reject) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => reject(new Error('upgraded without the token')));
      socket.once('error', reject);
    });
    socket.terminate();
    assert.equal(status, 401);
    assert.equal(refusals[0]?.reason, 'missing');
    assert.equal(refusals[0]?.path, REALTIME_WIRE_PATH);
    assert.equal(opened.length, 0);
  });

  it('opens a Realtime session for a caller with the token', async () => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}${REALTIME_WIRE_PATH}`, {
      headers: {
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        [INTERNAL_TOKEN_HEADER]: TOKEN,
        'x-aigw-wire-message': Buffer.from('{}').toString('base64url'),
      },
    });
    // The opener refuses (no model): past the token check, as a 404 in the wire's shape.
    const status = await new Promise<number>((resolve, reject) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('error', reject);
    });
    socket.terminate();
    assert.equal(status, 404);
    assert.equal(opened.length, 1);
  });

  it('opens a Realtime session for a caller with the previous token, counted', async () => {
    previous.length = 0;
    const socket = new WebSocket(`${base.replace('http', 'ws')}${REALTIME_WIRE_PATH}`, {
      headers: {
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        [INTERNAL_TOKEN_HEADER]: OLD,
        'x-aigw-wire-message': Buffer.from('{}').toString('base64url'),
      },
    });
    const status = await new Promise<number>((resolve, reject) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('error', reject);
    });
    socket.terminate();
    assert.equal(status, 404, 'past the token check');
    assert.deepEqual(previous, [REALTIME_WIRE_PATH]);
  });
});
