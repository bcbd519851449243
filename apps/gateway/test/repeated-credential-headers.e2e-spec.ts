// A credential header sent twice with two different credentials (two `Authorization:
// Bearer` lines, two `x-api-key` lines) is refused as conflicting, as two different
// credential headers are: Node keeps only the first Authorization, so the gateway served
// the first token while a proxy in front may have checked the other.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { rawExchange, type RawAnswer } from './raw-http-exchange';

const ISSUER = 'https://auth.repeated-headers.test';

const yaml = (jwksUri: string) => `kind: AIGatewayRoute
metadata: {name: keyed}
spec:
  backends:
  - {name: keyed, provider: local, model: keyed-model}
  userIdentification: {header: authorization}
---
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends:
  - {name: local, provider: local, model: local-model}
  userIdentification: {header: x-user-id}
---
kind: SecurityPolicy
metadata: {name: auth}
spec:
  targetRefs:
  - {kind: AIGatewayRoute, name: secured}
  jwt:
    providers:
    - name: auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}
`;

/** A chat call with `credentialLines` as its raw header lines, on a fresh connection. */
function chatWith(
  port: number,
  credentialLines: string,
  model = 'local-model',
): Promise<RawAnswer> {
  const body = JSON.stringify({
    model,
    messages: [{ role: 'user', content: 'hi' }],
  });
  return rawExchange(
    port,
    'POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n' +
      `${credentialLines}content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

describe('all-in-one gateway: a credential header sent twice', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let gateway: AppProcess;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    gateway = await startGatewayWithConfig(yaml(jwks.url));
  });
  after(async () => {
    await gateway?.stop();
    await jwks.stop();
  });

  const conflictingRefusals = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const line = /ai_gateway_identity_refusals_total\{reason="conflicting_credentials"\} (\d+)/;
    return Number(line.exec(text)?.[1] ?? 0);
  };

  it('refuses two Authorization headers carrying different tokens, naming the header only', async () => {
    const alice = await issuer.sign({ sub: 'alice' });
    const bob = await issuer.sign({ sub: 'bob' });
    const before = await conflictingRefusals();

    const answer = await chatWith(
      gateway.port,
      `authorization: Bearer ${alice}\r\nauthorization: Bearer ${bob}\r\n`,
    );

    assert.equal(answer.status, 401, answer.body);
    const error = (JSON.parse(answer.body) as { error: { type: string; message: string } }).error;
    assert.equal(error.type, 'authentication_error');
    assert.match(error.message, /authorization/);
    assert.ok(
      !answer.body.includes(alice.split('.')[1]) && !answer.body.includes(bob.split('.')[1]),
    );
    assert.equal(await conflictingRefusals(), before + 1);
  });

  it('refuses two x-api-key headers carrying different tokens as conflicting too', async () => {
    const alice = await issuer.sign({ sub: 'alice' });
    const bob = await issuer.sign({ sub: 'bob' });
    const before = await conflictingRefusals();
    const answer = await chatWith(gateway.port, `x-api-key: ${alice}\r\nx-api-key: ${bob}\r\n`);
    assert.equal(answer.status, 401, answer.body);
    assert.equal(await conflictingRefusals(), before + 1);
  });

  it('serves the same token sent twice as that token', async () => {
    const alice = await issuer.sign({ sub: 'alice' });
    const answer = await chatWith(
      gateway.port,
      `authorization: Bearer ${alice}\r\nauthorization: Bearer ${alice}\r\n`,
    );
    assert.equal(answer.status, 200, answer.body);
  });

  it('refuses two different keys in one header on a route naming users by it (no JWT)', async () => {
    const before = await conflictingRefusals();
    const answer = await chatWith(
      gateway.port,
      'authorization: Bearer sk-one\r\nauthorization: Bearer sk-two\r\n',
      'keyed-model',
    );
    assert.equal(answer.status, 401, answer.body);
    assert.ok(!answer.body.includes('sk-one') && !answer.body.includes('sk-two'));
    assert.equal(await conflictingRefusals(), before + 1);
    const once = await chatWith(gateway.port, 'authorization: Bearer sk-one\r\n', 'keyed-model');
    const twice = await chatWith(
      gateway.port,
      'authorization: Bearer sk-one\r\nauthorization: Bearer sk-one\r\n',
      'keyed-model',
    );
    assert.equal(once.status, 200, once.body);
    assert.equal(twice.status, 200, twice.body);
  });

  it('refuses a Content-Type sent twice (read joined) in OpenAI shape', async () => {
    const alice = await issuer.sign({ sub: 'alice' });
    const answer = await chatWith(
      gateway.port,
      `authorization: Bearer ${alice}\r\ncontent-type: application/json\r\n`,
    );
    assert.equal(answer.status, 400, answer.body);
    const error = (JSON.parse(answer.body) as { error: { type: string; message: string } }).error;
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /Content-Type: application\/json/);
  });
});
