// Clients written for Azure OpenAI pointed at the gateway unchanged: the openai package's
// AzureOpenAI client (`{endpoint}/openai/deployments/{deployment}/...?api-version=...`, its
// key in `api-key`) and the plain OpenAI client on Azure's v1 API (`{endpoint}/openai/v1/`).
// The deployment is the gateway's virtual model; the calls go the way /v1's do (identity,
// routing, metrics under the OpenAI endpoint), here to an OpenAI backend, which never sees
// the client's api-version or api-key. The route takes JWTs: the token rides in `api-key`.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { AzureOpenAI, NotFoundError, toFile } from 'openai';
import { GatewayEndpoint } from '@aigw/contracts';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { metricSum } from '@aigw/testing';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const ISSUER = 'https://auth.azure-edge.test';
const BACKEND_KEY = 'sk-openai-backend-71ac';
const API_VERSION = '2024-10-21';

const yaml = (jwksUri: string, openaiUrl: string) => `kind: AIGatewayRoute
metadata: {name: azure-edge}
spec:
  backends:
  - {name: chat, provider: openai, baseUrl: "${openaiUrl}", auth: {apiKeyRef: {name: openai-key}}, model: gpt-4o-mini, modelNameOverride: chat-prod}
  - {name: embed, provider: openai, baseUrl: "${openaiUrl}", auth: {apiKeyRef: {name: openai-key}}, model: text-embedding-3-small, modelNameOverride: embedder}
  - {name: speech, provider: openai, baseUrl: "${openaiUrl}", auth: {apiKeyRef: {name: openai-key}}, model: whisper-1, modelNameOverride: speech-prod}
  - {name: image, provider: openai, baseUrl: "${openaiUrl}", auth: {apiKeyRef: {name: openai-key}}, model: dall-e-3, modelNameOverride: image-prod}
  - {name: voice, provider: openai, baseUrl: "${openaiUrl}", auth: {apiKeyRef: {name: openai-key}}, model: tts-1, modelNameOverride: voice-prod}
  userIdentification: {header: x-user-id}
---
kind: SecurityPolicy
metadata: {name: azure-edge-auth}
spec:
  targetRefs:
  - {kind: AIGatewayRoute, name: azure-edge}
  jwt:
    providers:
    - name: azure-edge-auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}
`;

/**
 * Passes every request on to the fake OpenAI backend, keeping the URL it came with: the
 * fake records paths without their query, and the query is what must not be forwarded.
 */
class UrlRecorder {
  readonly urls: string[] = [];
  private readonly server: Server;
  private port = 0;

  constructor(private readonly target: () => URL) {
    this.server = createServer((incoming, outgoing) => {
      this.urls.push(incoming.url ?? '');
      const to = this.target();
      const upstream = forward(
        {
          host: to.hostname,
          port: to.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      incoming.pipe(upstream);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('Azure OpenAI clients against the all-in-one gateway', () => {
  const jwks = new LocalJwksServer();
  const openai = new FakeOpenAiUpstream('openai');
  const recorder = new UrlRecorder(() => new URL(openai.baseUrl));
  let issuer: TestIssuer;
  let gateway: AppProcess;
  let token: string;

  before(async () => {
    await Promise.all([jwks.start(), openai.start(), recorder.start()]);
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    gateway = await startGatewayWithConfig(yaml(jwks.url, recorder.baseUrl), {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: BACKEND_KEY,
    });
    token = await issuer.sign({ sub: 'azure-user' });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([jwks.stop(), openai.stop(), recorder.stop()]);
  });
  beforeEach(() => {
    openai.reset();
    recorder.urls.length = 0;
  });

  const azure = (deployment?: string) =>
    new AzureOpenAI({
      endpoint: gateway.baseUrl,
      apiKey: token,
      apiVersion: API_VERSION,
      deployment,
      maxRetries: 0,
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const requests = (text: string, route: string) =>
    metricSum(text, 'ai_gateway_requests_total', { route, status: '200' });

  /** What the backend was sent: the OpenAI path, the backend's key, no query, no api-key. */
  const assertSentAsOpenAi = (path: string) => {
    assert.equal(openai.calls.length, 1);
    const [call] = openai.calls;
    assert.equal(call.path, path);
    assert.equal(call.headers.authorization, `Bearer ${BACKEND_KEY}`);
    assert.equal(call.headers['api-key'], undefined);
    assert.deepEqual(recorder.urls, [path], 'the api-version query reached the backend');
    const sent = Object.values(call.headers).map(String).join('\n');
    assert.ok(!sent.includes(token.split('.')[2]), "the client's token reached the backend");
  };

  it('answers AzureOpenAI chat at the deployment path, the deployment the model', async () => {
    const before = await metrics();
    const answer = await azure('chat-prod').chat.completions.create({
      // Azure ignores the body's model for the deployment's; so does the gateway.
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(answer.choices[0].message.content, 'Hello from the fake upstream.');
    assertSentAsOpenAi('/v1/chat/completions');
    assert.equal(openai.calls[0].body.model, 'gpt-4o-mini');
    // Counted under the OpenAI endpoint, so dashboards sum both; the JWT's sub is the user.
    const after = await metrics();
    const chat = GatewayEndpoint.ChatCompletions;
    assert.equal(requests(after, chat) - requests(before, chat), 1);
    assert.match(after, /ai_gateway_tokens_total\{user="azure-user",model="chat-prod"/);
    assert.doesNotMatch(after, /route="[^"]*deployments/);
  });

  it('streams AzureOpenAI chat, the deployment taken from the body model', async () => {
    // No deployment on the client: the client puts the body's model in the path.
    const stream = await azure().chat.completions.create({
      model: 'chat-prod',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hello' }],
    });
    let text = '';
    let totalTokens = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      totalTokens = chunk.usage?.total_tokens ?? totalTokens;
    }
    assert.equal(text, 'Hello from the fake upstream.');
    assert.equal(totalTokens, 18);
    assertSentAsOpenAi('/v1/chat/completions');
    assert.equal(openai.calls[0].body.stream, true);
  });

  it('answers AzureOpenAI embeddings at the deployment path', async () => {
    const before = await metrics();
    const answer = await azure('embedder').embeddings.create({
      model: 'embedder',
      input: ['a', 'b'],
      encoding_format: 'float',
    });
    assert.equal(answer.data.length, 2);
    assert.deepEqual(answer.data[0].embedding, [0.1, 0.2, 0.3]);
    assertSentAsOpenAi('/v1/embeddings');
    assert.equal(openai.calls[0].body.model, 'text-embedding-3-small');
    const embeddings = GatewayEndpoint.Embeddings;
    assert.equal(requests(await metrics(), embeddings) - requests(before, embeddings), 1);
  });

  it("transcribes at the deployment path, the deployment the form's model", async () => {
    const clip = await toFile(Buffer.from('RIFF-not-really-audio'), 'clip.wav', {
      type: 'audio/wav',
    });
    const answer = await azure('speech-prod').audio.transcriptions.create({
      model: 'whisper-large',
      file: clip,
    });
    assert.equal(answer.text, 'Hello from the fake upstream.');
    assertSentAsOpenAi('/v1/audio/transcriptions');
    assert.equal(openai.calls[0].body.model, 'whisper-1');
  });

  it('generates images and speech at the deployment paths', async () => {
    const images = await azure('image-prod').images.generate({
      model: 'dall-e-3',
      prompt: 'a fox',
    });
    assert.equal(images.data?.length, 1);
    assertSentAsOpenAi('/v1/images/generations');
    assert.equal(openai.calls[0].body.model, 'dall-e-3');
    openai.reset();
    recorder.urls.length = 0;
    const speech = await azure('voice-prod').audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'hello',
    });
    assert.ok((await speech.arrayBuffer()).byteLength > 0);
    assertSentAsOpenAi('/v1/audio/speech');
    assert.equal(openai.calls[0].body.model, 'tts-1');
  });

  it("answers an AzureOpenAI client's Responses call (no deployment in its path)", async () => {
    const answer = await azure().responses.create({ model: 'chat-prod', input: 'hello' });
    assert.equal(answer.output_text, 'Hello from the fake upstream.');
    assert.equal(answer.model, 'chat-prod');
    // The gateway's Responses API, served over the backend's chat completions.
    assertSentAsOpenAi('/v1/chat/completions');
  });

  it('answers an unknown deployment as an unknown model: 404 in the OpenAI error shape', async () => {
    await assert.rejects(
      azure('no-such-deployment').chat.completions.create({
        model: 'no-such-deployment',
        messages: [{ role: 'user', content: 'hello' }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof NotFoundError, String(error));
        assert.equal(error.status, 404);
        assert.equal(error.code, 'model_not_found');
        return true;
      },
    );
    const ask = (path: string) =>
      fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': token },
        body: JSON.stringify({
          model: 'no-such-deployment',
          messages: [{ role: 'user', content: 'hello' }],
        }),
      });
    const azureStyle = await ask(
      `/openai/deployments/no-such-deployment/chat/completions?api-version=${API_VERSION}`,
    );
    const openAiStyle = await ask('/v1/chat/completions');
    assert.equal(azureStyle.status, 404);
    // Azure's error body is `{error: {code, message}}`: OpenAI's carries both.
    const body = (await azureStyle.json()) as { error: Record<string, unknown> };
    assert.equal(body.error.code, 'model_not_found');
    assert.equal(typeof body.error.message, 'string');
    assert.match(String(body.error.message), /no-such-deployment/);
    assert.deepEqual(body, await openAiStyle.json());
    assert.equal(openai.calls.length, 0);
  });

  it('answers a deployment path asked with GET with a 405 naming POST', async () => {
    const response = await fetch(
      `${gateway.baseUrl}/openai/deployments/chat-prod/chat/completions?api-version=${API_VERSION}`,
      { headers: { 'api-key': token } },
    );
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    const body = (await response.json()) as { error: { message: string } };
    assert.match(body.error.message, /use POST/);
  });

  it("serves Azure's v1 API (/openai/v1) to the OpenAI client, model in the body", async () => {
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/openai/v1/`,
      apiKey: token,
      maxRetries: 0,
    });
    const before = await metrics();
    const answer = await client.chat.completions.create({
      model: 'chat-prod',
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(answer.choices[0].message.content, 'Hello from the fake upstream.');
    assertSentAsOpenAi('/v1/chat/completions');
    const chat = GatewayEndpoint.ChatCompletions;
    assert.equal(requests(await metrics(), chat) - requests(before, chat), 1);
    const models = await client.models.list();
    assert.deepEqual(models.data.map((model) => model.id).sort(), [
      'chat-prod',
      'embedder',
      'image-prod',
      'speech-prod',
      'voice-prod',
    ]);
  });

  it('refuses the deployment path without a valid token in api-key, as /v1 does', async () => {
    const forged = await issuer.signWithForeignKey({ sub: 'azure-user' });
    for (const apiKey of [forged, '0123456789abcdef0123456789abcdef']) {
      const client = new AzureOpenAI({
        endpoint: gateway.baseUrl,
        apiKey,
        apiVersion: API_VERSION,
        deployment: 'chat-prod',
        maxRetries: 0,
      });
      await assert.rejects(
        client.chat.completions.create({
          model: 'chat-prod',
          messages: [{ role: 'user', content: 'hello' }],
        }),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
          assert.equal(error.status, 401);
          return true;
        },
      );
    }
    assert.equal(openai.calls.length, 0);
  });
});
