// Files, batches and Google's files where the gateway's first route trusts x-user-id and
// the second needs a JWT (all-in-one gateway). A list or look that names no model must
// neither show a keyless caller (whatever id it claims) a JWT user's objects nor hide a
// JWT user's own from it: each object is checked on its own model's route, and a list
// reads under every identity some route gives the caller.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { ApiError, GoogleGenAI } from '@google/genai';
import {
  FAKE_BATCH_MODEL,
  FakeBatchBackend,
  FakeGeminiFilesUpstream,
} from '@aigw/testing/fake-provider';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const ISSUER = 'https://auth.identified-files.test';
const GEMINI_KEY = 'AIzaIdentifiedFilesBackend';

const yaml = (batchUrl: string, geminiUrl: string, jwksUri: string) => `kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: open-openai, provider: openai, baseUrl: "${batchUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: open-batch, auth: {apiKeyRef: {name: openai-key}}}
  - {name: open-gemini, provider: google-gemini, baseUrl: "${geminiUrl}", model: gemini-2.5-flash, modelNameOverride: open-gemini, auth: {apiKeyRef: {name: gemini-key}}}
  userIdentification: {header: x-user-id}
---
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends:
  - {name: secure-openai, provider: openai, baseUrl: "${batchUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: secure-batch, auth: {apiKeyRef: {name: openai-key}}}
  - {name: secure-gemini, provider: google-gemini, baseUrl: "${geminiUrl}", model: gemini-2.5-flash, modelNameOverride: secure-gemini, auth: {apiKeyRef: {name: gemini-key}}}
  userIdentification: {header: x-user-id}
---
kind: SecurityPolicy
metadata: {name: agent-auth}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: secured}]
  jwt:
    providers:
    - name: agent-auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders: [{claim: sub, header: x-user-id}]
`;

const batchInput = (model: string) =>
  JSON.stringify({
    custom_id: 'r0',
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: 'secret plan' }], max_tokens: 10 },
  });

/** A JWT route's object asked without a valid token: that route's 401, as a call there. */
const refused = (error: unknown) => error instanceof OpenAI.AuthenticationError;
const googleRefused = (error: unknown) => error instanceof ApiError && error.status === 401;

const ids = (page: { data: { id: string }[] }) => page.data.map((item) => item.id);

/** Keyless callers claiming an id, or none: the open route names them, never a JWT user. */
const KEYLESS: Record<string, string>[] = [
  {},
  { 'x-user-id': 'anonymous' },
  { 'x-user-id': 'alice' },
];

describe('files and batches of a gateway identifying callers two ways', () => {
  const jwks = new LocalJwksServer();
  const batchBackend = new FakeBatchBackend();
  const geminiBackend = new FakeGeminiFilesUpstream('g', GEMINI_KEY);
  let issuer: TestIssuer;
  let gateway: AppProcess;
  let token: string;

  const openAi = (apiKey: string, headers: Record<string, string> = {}) =>
    new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey,
      maxRetries: 0,
      defaultHeaders: headers,
    });
  const google = (apiKey: string, headers: Record<string, string> = {}) =>
    new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gateway.baseUrl, headers } });
  const geminiNames = async (client: GoogleGenAI) => {
    const names: string[] = [];
    for await (const file of await client.files.list()) names.push(file.name!);
    return names;
  };
  const upload = async (client: OpenAI, model: string) =>
    client.files.create({
      file: await toFile(Buffer.from(batchInput(model)), 'input.jsonl'),
      purpose: 'batch',
      // The form field names the model: the client itself names none for lists.
      ...({ model } as object),
    });

  before(async () => {
    await Promise.all([jwks.start(), batchBackend.start(), geminiBackend.start()]);
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    token = await issuer.sign({ sub: 'alice' });
    gateway = await startGatewayWithConfig(
      yaml(batchBackend.baseUrl, geminiBackend.baseUrl, jwks.url),
      {
        AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
        AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: GEMINI_KEY,
        AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '0',
      },
    );
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([jwks.stop(), batchBackend.stop(), geminiBackend.stop()]);
  });

  it("keeps a JWT user's file and batch from keyless callers, whatever id they claim", async () => {
    const alice = openAi(token);
    const file = await upload(alice, 'secure-batch');
    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    for (const claimed of KEYLESS) {
      const keyless = openAi('unused', claimed);
      assert.ok(!ids(await keyless.files.list()).includes(file.id), 'file listed');
      assert.ok(!ids(await keyless.batches.list()).includes(batch.id), 'batch listed');
      await assert.rejects(keyless.files.retrieve(file.id), refused);
      await assert.rejects(keyless.files.content(file.id), refused);
      await assert.rejects(keyless.batches.retrieve(batch.id), refused);
      await assert.rejects(keyless.batches.cancel(batch.id), refused);
      await assert.rejects(keyless.files.delete(file.id), refused);
    }
    assert.equal((await alice.files.retrieve(file.id)).id, file.id, 'still there');
  });

  it("keeps a JWT user's Google file from keyless callers, whatever id they claim", async () => {
    const uploaded = await google(token, { 'x-ai-gateway-model': 'secure-gemini' }).files.upload({
      file: new Blob(['secret plan'], { type: 'text/plain' }),
      config: { mimeType: 'text/plain' },
    });
    for (const claimed of KEYLESS) {
      const keyless = google('goog-client-key', claimed);
      assert.ok(!(await geminiNames(keyless)).includes(uploaded.name!), 'listed');
      await assert.rejects(keyless.files.get({ name: uploaded.name! }), googleRefused);
      await assert.rejects(keyless.files.delete({ name: uploaded.name! }), googleRefused);
    }
    assert.equal((await google(token).files.get({ name: uploaded.name! })).name, uploaded.name);
  });

  it('lists a JWT user its own files and batches though it names no model', async () => {
    const alice = openAi(token);
    const file = await upload(alice, 'secure-batch');
    const batch = await alice.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    assert.ok(ids(await alice.files.list()).includes(file.id), 'file not listed');
    assert.ok(ids(await alice.batches.list()).includes(batch.id), 'batch not listed');
  });

  it('lists a JWT user its own Google files though it names no model', async () => {
    const uploaded = await google(token, { 'x-ai-gateway-model': 'secure-gemini' }).files.upload({
      file: new Blob(['my notes'], { type: 'text/plain' }),
      config: { mimeType: 'text/plain' },
    });
    assert.ok(
      (await geminiNames(google(token))).includes(uploaded.name!),
      'Google file not listed',
    );
  });

  it('still lists header-identified callers their own files on the open route, no one else', async () => {
    const bob = openAi('unused', { 'x-user-id': 'bob' });
    const file = await upload(bob, 'open-batch');
    assert.deepEqual(ids(await bob.files.list()), [file.id]);
    assert.deepEqual(ids(await openAi('unused', { 'x-user-id': 'carol' }).files.list()), []);
    const bobs = google('goog-client-key', { 'x-user-id': 'bob' });
    const uploaded = await google('goog-client-key', {
      'x-user-id': 'bob',
      'x-ai-gateway-model': 'open-gemini',
    }).files.upload({
      file: new Blob(['bob notes'], { type: 'text/plain' }),
      config: { mimeType: 'text/plain' },
    });
    assert.deepEqual(await geminiNames(bobs), [uploaded.name]);
    assert.deepEqual(await geminiNames(google('goog-client-key', { 'x-user-id': 'carol' })), []);
    // A JWT user's own list leaves bob's out (the open route names it anonymous).
    assert.ok(!ids(await openAi(token).files.list()).includes(file.id));
  });
});
