import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { REDACTED, Secret } from '../secret';
import { Logger, logLevelFromEnv } from './logger';
import { NestLoggerService } from './nest-logger.service';
import { redact, redactString } from './redact';

const OPENAI_KEY = 'sk-proj-AbCdEf0123456789xyzXYZ';
const ANTHROPIC_KEY = 'sk-ant-api03-QwErTy0123456789';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl';
const SECRETS = [
  OPENAI_KEY,
  ANTHROPIC_KEY,
  JWT,
  'hunter2-password',
  'AKIAIOSFODNN7EXAMPLE',
  'AIzaSyA-1234567890abcdefghijklmnopqrstu',
];

function capture(level: 'trace' | 'info' = 'trace') {
  const lines: string[] = [];
  const logger = new Logger({ level, write: (l) => lines.push(l), now: () => new Date(0) });
  return {
    logger,
    lines,
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function assertNoSecrets(text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `leaked ${secret} in ${text}`);
}

describe('redaction', () => {
  it('masks credential-shaped strings', () => {
    assert.equal(redactString(`key is ${OPENAI_KEY}.`), `key is ${REDACTED}.`);
    assert.equal(redactString(`Authorization: Bearer ${JWT}`), `Authorization: ${REDACTED}`);
    assert.equal(redactString(`bearer ${JWT}`), `bearer ${REDACTED}`);
    assert.equal(
      redactString(
        'GET https://generativelanguage.googleapis.com/v1/models?key=AIzaSyA-1234567890abcdefghijklmnopqrstu&alt=sse',
      ),
      `GET https://generativelanguage.googleapis.com/v1/models?key=${REDACTED}&alt=sse`,
    );
    assert.equal(redactString('{"x-api-key":"abc123"}'), `{"x-api-key":"${REDACTED}"}`);
  });

  it("masks a URL's password, whatever its scheme, and keeps the rest", () => {
    assert.equal(
      redactString('REDIS_URL "redis://:hunter2-password@redis:6379/0" refused'),
      `REDIS_URL "redis://:${REDACTED}@redis:6379/0" refused`,
    );
    assert.equal(
      redactString('got "grpc://otlp:s3cr3t:with:colons@collector:4317"'),
      `got "grpc://otlp:${REDACTED}@collector:4317"`,
    );
    // An @ left unencoded in the password: URL parsers (WHATWG's, ioredis') split at the last.
    assert.equal(
      redactString('rediss://default:Sup3r@Secret!@cache.example:6380 refused'),
      `rediss://default:${REDACTED}@cache.example:6380 refused`,
    );
    // No password, or an @ later in the path: nothing to mask.
    const plain = 'https://user@example.com/a and http://host:8123/x@y';
    assert.equal(redactString(plain), plain);
  });

  it('masks sensitive keys but keeps token counts', () => {
    const out = redact({
      headers: {
        Authorization: 'Basic dXNlcjpwYXNz',
        'x-api-key': 'whatever',
        'content-type': 'application/json',
      },
      apiKey: 'plain-looking',
      password: 'hunter2-password',
      access_token: 'opaque',
      usage: { max_tokens: 100, inputTokens: 5, total_tokens: 9 },
    });
    assert.deepEqual(out, {
      headers: {
        Authorization: REDACTED,
        'x-api-key': REDACTED,
        'content-type': 'application/json',
      },
      apiKey: REDACTED,
      password: REDACTED,
      access_token: REDACTED,
      usage: { max_tokens: 100, inputTokens: 5, total_tokens: 9 },
    });
  });

  it('masks Secret wrappers everywhere they can be printed', () => {
    const secret = new Secret(OPENAI_KEY);
    assert.equal(String(secret), REDACTED);
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- what the test checks
    assert.equal(`${secret}`, REDACTED);
    assert.equal(JSON.stringify({ secret }), `{"secret":"${REDACTED}"}`);
    assert.ok(!inspect({ secret }).includes(OPENAI_KEY));
    assert.deepEqual(redact({ cfg: { anything: secret } }), { cfg: { anything: REDACTED } });
    assert.equal(secret.reveal(), OPENAI_KEY);
    // Another lib's wrapper that prints as [REDACTED] counts too.
    class OtherSecret {
      constructor(readonly value: string) {}
      toString() {
        return REDACTED;
      }
    }
    assert.deepEqual(redact({ x: new OtherSecret(OPENAI_KEY) }), { x: REDACTED });
  });

  it('handles cycles, Maps, Headers, Errors with causes and buffers', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    assert.deepEqual(redact(cyclic), { name: 'a', self: '[Circular]' });
    assert.deepEqual(redact(new Map([['authorization', 'x']])), { authorization: REDACTED });
    assert.deepEqual(redact(new Headers({ 'X-Api-Key': 'abc', accept: 'text/event-stream' })), {
      'x-api-key': REDACTED,
      accept: 'text/event-stream',
    });
    const error = Object.assign(
      new Error(`upstream 401 for ${OPENAI_KEY}`, { cause: new Error(`token ${JWT}`) }),
      {
        headers: { authorization: `Bearer ${OPENAI_KEY}` },
      },
    );
    const text = JSON.stringify(redact(error));
    assertNoSecrets(text);
    assert.match(text, /upstream 401/);
    assert.equal(redact(Buffer.from('secret body')), '[11 bytes]');
  });
});

describe('Logger', () => {
  it('writes one JSON line per call with time, level and message', () => {
    const { logger, parsed } = capture('info');
    logger.child({ service: 'ingress' }).info('started', { port: 8080 });
    assert.deepEqual(parsed(), [
      {
        service: 'ingress',
        port: 8080,
        time: '1970-01-01T00:00:00.000Z',
        level: 'info',
        msg: 'started',
      },
    ]);
  });

  it('drops lines below the level', () => {
    const { logger, lines } = capture('info');
    logger.debug('noise');
    logger.trace('noise');
    logger.warn('kept');
    assert.equal(lines.length, 1);
    logger.level = 'debug';
    logger.debug('now kept');
    assert.equal(lines.length, 2);
  });

  it('never writes a secret, whatever it is handed', () => {
    const { logger, lines } = capture();
    logger.info(`calling upstream with ${OPENAI_KEY}`);
    logger.warn('request', {
      headers: { authorization: `Bearer ${JWT}`, 'x-api-key': ANTHROPIC_KEY },
    });
    logger.error('upstream failed', new Error(`401: invalid key ${ANTHROPIC_KEY}`));
    logger.debug('config', {
      backends: [{ name: 'openai', apiKey: new Secret(OPENAI_KEY), password: 'hunter2-password' }],
    });
    logger.info('aws', {
      note: 'id AKIAIOSFODNN7EXAMPLE',
      url: 'https://x/y?key=AIzaSyA-1234567890abcdefghijklmnopqrstu',
    });
    assert.equal(lines.length, 5);
    assertNoSecrets(lines.join(''));
    assert.ok(lines.every((l) => l.endsWith('\n')));
  });

  it('reads AI_GATEWAY_LOG_LEVEL and refuses a typo', () => {
    assert.equal(logLevelFromEnv({}), 'info');
    assert.equal(logLevelFromEnv({ AI_GATEWAY_LOG_LEVEL: 'DEBUG' }), 'debug');
    assert.throws(
      () => logLevelFromEnv({ AI_GATEWAY_LOG_LEVEL: 'loud' }),
      /must be one of fatal, error, warn, info, debug, trace/,
    );
  });
});

describe('NestLoggerService', () => {
  it('maps Nest calls onto JSON lines with context and stack, redacted', () => {
    const { logger, parsed, lines } = capture();
    const nest = new NestLoggerService(logger);
    nest.log('Mapped {/v1/chat/completions, POST} route', 'RouterExplorer');
    nest.error(`boom ${OPENAI_KEY}`, `Error: boom\n    at x (y.ts:1:1)`, 'ExceptionsHandler');
    nest.verbose({ apiKey: OPENAI_KEY }, 'Config');
    const [log, error, verbose] = parsed();
    assert.deepEqual([log?.level, log?.context], ['info', 'RouterExplorer']);
    assert.deepEqual([error?.level, error?.context], ['error', 'ExceptionsHandler']);
    assert.match(String(error?.stack), /at x/);
    assert.deepEqual([verbose?.level, verbose?.data], ['trace', { apiKey: REDACTED }]);
    assertNoSecrets(lines.join(''));
  });

  it('applies Nest log levels as a threshold', () => {
    const { logger } = capture();
    new NestLoggerService(logger).setLogLevels(['error', 'warn', 'log']);
    assert.equal(logger.level, 'info');
  });
});
