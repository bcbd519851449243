import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI, Type } from '@google/genai';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { ScriptedChatUpstream, type ChatAnswer } from './scripted-chat-upstream';

// Google's structured-output example through the gateway to an OpenAI backend: a
// responseSchema of an ARRAY, which OpenAI's json_schema refuses at the root. The client
// gets its array, plain and streamed.

const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-json-root-'));

/** Answers as OpenAI does, which takes only object-rooted schemas. */
const objectRootedOnly: ChatAnswer = (body, response) => {
  const format = body.response_format as { json_schema?: { schema?: { type?: string } } };
  const root = format?.json_schema?.schema?.type;
  if (root !== 'object') {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        error: {
          message: `Invalid schema for response_format 'response': schema must be a JSON Schema of 'type: "object"', got 'type: "${root}"'.`,
          type: 'invalid_request_error',
          param: 'response_format',
          code: null,
        },
      }),
    );
    return;
  }
  const answer = '{"value": ["soup", "bread"]}';
  const usage = { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 };
  const base = { id: 'chatcmpl-json', model: 'upstream' };
  if (body.stream !== true) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer },
            finish_reason: 'stop',
          },
        ],
        usage,
      }),
    );
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = { ...base, object: 'chat.completion.chunk' };
  for (const piece of [answer.slice(0, 12), answer.slice(12)]) {
    event({
      ...chunk,
      choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
    });
  }
  event({ ...chunk, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  event({ ...chunk, choices: [], usage });
  response.end('data: [DONE]\n\n');
};

describe('Gemini API: a response schema of an array on an OpenAI backend', () => {
  const upstream = new ScriptedChatUpstream(objectRootedOnly);
  let gateway: AppProcess;
  let client: GoogleGenAI;
  const config = {
    responseMimeType: 'application/json',
    responseSchema: { type: Type.ARRAY, items: { type: Type.STRING } },
  };

  before(async () => {
    await upstream.start();
    const file = join(dir, 'routes.yaml');
    writeFileSync(
      file,
      `kind: AIGatewayRoute
metadata: {name: gemini-json-root}
spec:
  backends:
  - name: structured
    provider: vllm
    baseUrl: ${upstream.baseUrl}
    model: upstream
    modelNameOverride: structured
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: file,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: gateway.baseUrl } });
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the array, plain and streamed', async () => {
    const plain = await client.models.generateContent({
      model: 'structured',
      contents: 'Two dishes',
      config,
    });
    assert.deepEqual(JSON.parse(plain.text ?? ''), ['soup', 'bread']);
    let streamed = '';
    const stream = await client.models.generateContentStream({
      model: 'structured',
      contents: 'Two dishes',
      config,
    });
    for await (const chunk of stream) streamed += chunk.text ?? '';
    assert.deepEqual(JSON.parse(streamed), ['soup', 'bread']);
  });
});
