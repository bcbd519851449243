import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI, type Content, type FunctionDeclaration } from '@google/genai';
import {
  FakeAnthropicUpstream,
  FakeGeminiUpstream,
  FakeOpenAiToolUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// Gemini takes function names with dots and colons (^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$: Gemini
// CLI's MCP tools keep a server's dots); OpenAI, Anthropic, Bedrock and Cohere take only
// letters, digits, underscores and dashes. Such a name goes to them as an alias and comes
// back to the Gemini client as its own.

const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-tool-names-'));
const BACKEND_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const DOTTED: FunctionDeclaration = {
  name: 'docs.search:v2',
  description: 'Search the docs',
  parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } },
};

/** Every tool name a backend's request body holds (OpenAI's, Anthropic's or Gemini's shape). */
function namesSent(body: Record<string, unknown>): string[] {
  const names: string[] = [];
  JSON.stringify(body, (key, value: unknown) => {
    if (key === 'name' && typeof value === 'string') names.push(value);
    return value;
  });
  return names;
}

describe('Gemini function names with dots and colons, on every kind of backend', () => {
  const openai = new FakeOpenAiToolUpstream();
  const claude = new FakeAnthropicUpstream();
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await Promise.all([openai.start(), claude.start(), gemini.start()]);
    const config = join(dir, 'upstreams.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: gemini-tool-names}
spec:
  backends:
  - name: openai
    provider: vllm
    baseUrl: ${openai.baseUrl}
    model: upstream-tool-model
    modelNameOverride: names-openai
    auth: {apiKeyRef: {name: backend-key}}
  - name: claude
    provider: anthropic
    baseUrl: ${claude.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: names-claude
    auth: {apiKeyRef: {name: backend-key}}
  - name: gemini
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-2.5-flash
    modelNameOverride: names-gemini
    auth: {apiKeyRef: {name: backend-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_BACKEND_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new GoogleGenAI({
      apiKey: 'goog-client-key',
      httpOptions: { baseUrl: gateway.baseUrl },
    });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([openai.stop(), claude.stop(), gemini.stop()]);
  });

  const backends = [
    { model: 'names-openai', upstream: () => openai },
    { model: 'names-claude', upstream: () => claude },
    { model: 'names-gemini', upstream: () => gemini },
  ];
  for (const { model, upstream } of backends) {
    it(`calls '${DOTTED.name}' on ${model} and takes its response back, plain and streamed`, async () => {
      upstream().reset();
      const config = { tools: [{ functionDeclarations: [DOTTED] }] };
      const question: Content = { role: 'user', parts: [{ text: 'Search the docs' }] };
      const first = await client.models.generateContent({ model, contents: [question], config });
      assert.deepEqual(
        first.functionCalls?.map((call) => call.name),
        [DOTTED.name],
      );

      const stream = await client.models.generateContentStream({
        model,
        contents: [question],
        config,
      });
      const streamed: string[] = [];
      for await (const chunk of stream) {
        streamed.push(...(chunk.functionCalls ?? []).map((call) => call.name ?? ''));
      }
      assert.deepEqual(streamed, [DOTTED.name]);

      const call = first.functionCalls[0];
      const answered = await client.models.generateContent({
        model,
        contents: [
          question,
          first.candidates![0].content!,
          {
            role: 'user',
            parts: [{ functionResponse: { id: call.id, name: DOTTED.name, response: { n: 3 } } }],
          },
        ],
        config,
      });
      assert.equal(answered.candidates?.[0]?.finishReason, 'STOP');

      const calls = upstream().calls;
      assert.equal(calls.length, 3);
      for (const sent of calls) {
        for (const name of namesSent(sent.body)) assert.match(name, BACKEND_NAME);
      }
      // The response reached the backend, answering the call by the name it was made under.
      assert.match(JSON.stringify(calls[2]?.body), /\\?"n\\?":3/);
    });
  }
});
