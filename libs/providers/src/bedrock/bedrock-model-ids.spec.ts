// Bedrock backends name their model as a base model id, a cross-region inference profile
// (us., global.) or an ARN (inference profile, provisioned throughput). Each goes into the
// Converse path as one encoded segment, signed as AWS signs it (the encoded path encoded
// again in the canonical request), and the model family is read through the prefix or ARN.
import { createHash, createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest, JsonObject, StreamAnswer } from '@aigw/contracts/data-plane';
import {
  cacheMarkedChatRequest,
  collectStream,
  FakeBedrockUpstream,
  gatewayChatRequest,
  type ProviderFakeCall,
  streamedText,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { BedrockAdapter } from './bedrock.adapter';
import { baseModelId, converseFamily } from './bedrock-model-id';
import { TEST_AWS_CREDENTIALS, useEnvAwsCredentials } from '../testing/env-aws-credentials';

const PROFILE = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0';
const GLOBAL_PROFILE = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
const PROFILE_ARN =
  'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0';
const PROVISIONED_ARN = 'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a1b2c3d4e5f6';
const APPLICATION_PROFILE_ARN =
  'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3';
const LLAMA_PROFILE_ARN =
  'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-3-70b-instruct-v1:0';
const LLAMA_FOUNDATION_ARN =
  'arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-3-70b-instruct-v1:0';
const NOVA_PROFILE = 'global.amazon.nova-2-lite-v1:0';

/** RFC 3986 unreserved characters stay; everything else is %XX, as SigV4's UriEncode. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, text: string) =>
  createHmac('sha256', key).update(text).digest();

/**
 * The SigV4 signature of a recorded call, computed here from AWS's published algorithm
 * rather than the SDK: for every service but S3 the canonical URI is each segment of the
 * path as sent (already encoded) encoded once more, so `%3A` is signed as `%253A`.
 */
function independentSignature(call: ProviderFakeCall): { expected: string; sent: string } {
  const auth = String(call.headers.authorization);
  const match =
    /Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})/.exec(
      auth,
    );
  assert.ok(match, auth);
  const [, day, region, service, signedHeaders, sent] = match;
  const canonicalUri = call.path
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${String(call.headers[name]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    call.method,
    canonicalUri,
    '',
    canonicalHeaders,
    signedHeaders,
    sha256(call.rawBody),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    String(call.headers['x-amz-date']),
    scope,
    sha256(canonicalRequest),
  ].join('\n');
  let key: Buffer = hmac(`AWS4${TEST_AWS_CREDENTIALS.secretAccessKey}`, day);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return { expected: createHmac('sha256', key).update(stringToSign).digest('hex'), sent };
}

describe('Bedrock model ids: profiles and ARNs', () => {
  const upstream = new FakeBedrockUpstream(TEST_AWS_CREDENTIALS);
  useEnvAwsCredentials(TEST_AWS_CREDENTIALS);
  let adapter: BedrockAdapter;
  const invoke = (model: string, request: GatewayRequest) =>
    adapter.invoke({
      request,
      target: upstreamTarget({ provider: 'bedrock', model, baseUrl: upstream.baseUrl }),
      signal: new AbortController().signal,
    });

  before(async () => {
    adapter = new BedrockAdapter();
    await upstream.start();
  });
  after(async () => {
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  it('reads the base model and its family through profile prefixes and ARNs', () => {
    assert.equal(baseModelId(PROFILE), 'anthropic.claude-3-5-sonnet-20240620-v1:0');
    assert.equal(baseModelId(PROFILE_ARN), 'anthropic.claude-3-5-sonnet-20240620-v1:0');
    assert.equal(baseModelId(LLAMA_FOUNDATION_ARN), 'meta.llama3-3-70b-instruct-v1:0');
    // A dot in the model's own name keeps its vendor; a geography is taken off before it.
    assert.equal(baseModelId('moonshotai.kimi-k2.5'), 'moonshotai.kimi-k2.5');
    assert.equal(baseModelId('us.moonshotai.kimi-k2.5'), 'moonshotai.kimi-k2.5');
    assert.equal(
      baseModelId('jp.anthropic.claude-sonnet-4-5-v1:0'),
      'anthropic.claude-sonnet-4-5-v1:0',
    );
    const families = [
      PROFILE,
      GLOBAL_PROFILE,
      PROFILE_ARN,
      LLAMA_PROFILE_ARN,
      LLAMA_FOUNDATION_ARN,
      NOVA_PROFILE,
      PROVISIONED_ARN,
      APPLICATION_PROFILE_ARN,
    ].map(converseFamily);
    assert.deepEqual(families, [
      'claude',
      'claude',
      'claude',
      'other',
      'other',
      'nova',
      'unnamed',
      'unnamed',
    ]);
  });

  for (const model of [PROFILE, GLOBAL_PROFILE, PROFILE_ARN, PROVISIONED_ARN]) {
    it(`calls ${model.slice(0, 60)} at one encoded path segment, signed over it, plain and streamed`, async () => {
      const plain = await invoke(model, gatewayChatRequest());
      assert.equal(plain.kind, 'json');
      const streamed = await invoke(model, gatewayChatRequest({ stream: true }));
      assert.equal(
        streamedText(await collectStream(streamed as StreamAnswer)),
        'Hello from Bedrock.',
      );
      assert.equal(upstream.lastSignatureProblem, undefined);
      const segment = encodeURIComponent(model);
      assert.ok(!segment.includes(':') && !segment.includes('/'), segment);
      assert.deepEqual(
        upstream.calls.map((call) => call.path),
        [`/model/${segment}/converse`, `/model/${segment}/converse-stream`],
      );
      for (const call of upstream.calls) {
        const { expected, sent } = independentSignature(call);
        assert.equal(sent, expected, 'the signature is over the encoded path, encoded again');
      }
    });
  }

  const cachePoints = (body: JsonObject) => {
    const system = (body.system as JsonObject[] | undefined) ?? [];
    const messages = body.messages as { content: JsonObject[] }[];
    const tools = ((body.toolConfig as JsonObject | undefined)?.tools as JsonObject[]) ?? [];
    const count = (blocks: JsonObject[]) => blocks.filter((b) => 'cachePoint' in b).length;
    return {
      system: count(system),
      messages: count(messages.flatMap((m) => m.content)),
      tools: count(tools),
    };
  };

  it('puts cache points where the family takes them, seen through prefixes and ARNs', async () => {
    const sent = async (model: string, stream: boolean) => {
      const answer = await invoke(model, { ...cacheMarkedChatRequest(), stream });
      if (answer.kind === 'stream') await collectStream(answer);
      return cachePoints(upstream.calls.at(-1)!.body);
    };
    const all = { system: 1, messages: 1, tools: 1 };
    for (const stream of [false, true]) {
      // Claude by any name, and an ARN that may be Claude: system, messages and tools.
      for (const model of [PROFILE_ARN, GLOBAL_PROFILE, APPLICATION_PROFILE_ARN]) {
        assert.deepEqual(await sent(model, stream), all, model);
      }
      // Nova caches system and messages, not tools.
      assert.deepEqual(await sent(NOVA_PROFILE, stream), { system: 1, messages: 1, tools: 0 });
      // Llama refuses any cache point: the marks are left out.
      for (const model of [LLAMA_PROFILE_ARN, LLAMA_FOUNDATION_ARN]) {
        assert.deepEqual(await sent(model, stream), { system: 0, messages: 0, tools: 0 }, model);
      }
    }
    assert.equal(upstream.lastSignatureProblem, undefined);
  });

  it("sends Claude's thinking to a Claude ARN, and to a Llama foundation-model ARN none", async () => {
    const request = gatewayChatRequest({ reasoning_effort: 'low' });
    await invoke(
      PROFILE_ARN.replace('claude-3-5-sonnet-20240620', 'claude-sonnet-4-5-20250929'),
      request,
    );
    const claude = upstream.calls.at(-1)!.body.additionalModelRequestFields as JsonObject;
    assert.deepEqual(claude.thinking, { type: 'enabled', budget_tokens: 1024 });
    await invoke(LLAMA_FOUNDATION_ARN, request);
    assert.equal(upstream.calls.at(-1)!.body.additionalModelRequestFields, undefined);
  });

  it("flags a failed tool's result for Nova behind a profile", async () => {
    const failed = gatewayChatRequest({
      // Tools sent: without, the history's tool blocks go as text (no tool may be called).
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'tooluse_1', type: 'function', function: { name: 'weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'service down', is_error: true },
      ],
    });
    await invoke(NOVA_PROFILE, failed);
    const result = (upstream.calls[0].body.messages as { content: JsonObject[] }[])[2].content[0];
    assert.equal((result.toolResult as JsonObject).status, 'error');
  });
});
