// security.promptValidation.redact (an extension to the spec) on the all-in-one gateway:
// the provider gets placeholders on every endpoint, the client still gets its answer, the
// metric counts each match, and neither events nor logs hold the original text.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { metricSum } from '@aigw/testing';
import { FakeGeminiUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
const EMPLOYEE = 'EMP-123456';
const SECRETS = [EMAIL, CARD, KEY, EMPLOYEE, '4111111111111111'];

describe('prompt redaction on the all-in-one gateway', () => {
  const upstream = new FakeOpenAiUpstream('redacting');
  const gemini = new FakeGeminiUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-redaction-e2e-'));
  const dataDir = join(dir, 'data');
  let gateway: AppProcess;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    await Promise.all([upstream.start(), gemini.start()]);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends:
  - {name: chat, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-chat, modelNameOverride: private-chat}
  - {name: embed, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-embed, modelNameOverride: private-embed}
  - {name: gemini-embed, provider: google-gemini, baseUrl: ${gemini.baseUrl}, model: gemini-embedding-001, modelNameOverride: private-gemini-embed, auth: {apiKeyRef: {name: gemini-key}}}
  security:
    promptValidation:
      redact:
        detectors: [email, creditCard, apiKey, {name: iban, mode: block}]
        patterns:
        - {name: employeeId, regex: "EMP-[0-9]{6}"}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: open, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-open, modelNameOverride: open-chat}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: dataDir,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'gemini-backend-key',
    });
    openai = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([upstream.stop(), gemini.stop()]);
  });

  const lastCall = () => JSON.stringify(upstream.calls.at(-1)?.body);
  const assertClean = (sent: string) => {
    for (const secret of SECRETS) assert.ok(!sent.includes(secret), `${secret} in ${sent}`);
  };
  const redactions = async (detector: string, route = 'private') =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
      'ai_gateway_redactions_total',
      { detector, route },
    );

  it('chat (openai client): messages, parts and tool arguments reach the provider masked', async () => {
    upstream.reset();
    const completion = await openai.chat.completions.create({
      model: 'private-chat',
      messages: [
        { role: 'system', content: `Escalate to ${EMAIL}.` },
        {
          role: 'user',
          content: [
            { type: 'text', text: `Pay with ${CARD}, my key is ${KEY}, I am ${EMPLOYEE}` },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'lookup', arguments: JSON.stringify({ email: EMAIL }) },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: `found ${EMAIL}` },
      ],
    });
    assert.ok(completion.choices[0]?.message.content, 'the client gets its answer');
    const sent = upstream.calls.at(-1)!.body as {
      messages: {
        content: unknown;
        tool_calls?: { id: string; function: { arguments: string } }[];
      }[];
    };
    assertClean(JSON.stringify(sent));
    assert.equal(sent.messages[0].content, 'Escalate to [REDACTED:email].');
    assert.deepEqual(sent.messages[1].content, [
      {
        type: 'text',
        text: 'Pay with [REDACTED:creditCard], my key is [REDACTED:apiKey], I am [REDACTED:employeeId]',
      },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ]);
    const call = sent.messages[2].tool_calls![0];
    assert.equal(call.id, 'call_1');
    assert.deepEqual(JSON.parse(call.function.arguments), { email: '[REDACTED:email]' });
    assert.equal(sent.messages[3].content, 'found [REDACTED:email]');
    assert.equal(await redactions('email'), 3);
    assert.equal(await redactions('creditCard'), 1);
    assert.equal(await redactions('apiKey'), 1);
    assert.equal(await redactions('employeeId'), 1);
  });

  it('a streamed chat and embeddings are masked too', async () => {
    upstream.reset();
    const stream = await openai.chat.completions.create({
      model: 'private-chat',
      messages: [{ role: 'user', content: `mail ${EMAIL}` }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.ok(text.length > 0);
    assert.match(lastCall(), /mail \[REDACTED:email\]/);

    const embedding = await openai.embeddings.create({
      model: 'private-embed',
      input: [`card ${CARD}`, 'plain'],
    });
    assert.equal(embedding.data.length, 2);
    assert.deepEqual(upstream.calls.at(-1)?.body.input, ['card [REDACTED:creditCard]', 'plain']);
    assert.equal(await redactions('email'), 4);
    assert.equal(await redactions('creditCard'), 2);
  });

  it('Anthropic Messages (official SDK): system, content blocks and tool results masked', async () => {
    upstream.reset();
    const message = await anthropic.messages.create({
      model: 'private-chat',
      max_tokens: 100,
      system: `Escalate to ${EMAIL}`,
      messages: [
        { role: 'user', content: [{ type: 'text', text: `I am ${EMPLOYEE}` }] },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { key: KEY } }],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: `card ${CARD}` }],
        },
      ],
    });
    assert.equal(message.type, 'message');
    assert.ok(message.content.length > 0, 'the client gets its answer');
    const sent = lastCall();
    assertClean(sent);
    for (const name of ['email', 'employeeId', 'apiKey', 'creditCard']) {
      assert.ok(sent.includes(`[REDACTED:${name}]`), `${name} placeholder in ${sent}`);
    }
    assert.match(sent, /"tool_call_id":"toolu_1"/);
  });

  it('Responses: input, instructions and the stored earlier turns sent again are masked', async () => {
    upstream.reset();
    const first = await openai.responses.create({
      model: 'private-chat',
      instructions: `Escalate to ${EMAIL}`,
      input: `I am ${EMPLOYEE}`,
    });
    assert.ok(first.output_text.length > 0);
    await openai.responses.create({
      model: 'private-chat',
      input: 'and again?',
      previous_response_id: first.id,
    });
    assert.equal(upstream.calls.length, 2);
    for (const call of upstream.calls) assertClean(JSON.stringify(call.body));
    assert.match(JSON.stringify(upstream.calls[1].body), /I am \[REDACTED:employeeId\]/);
  });

  it("Responses: a conversation's items sent again are masked, and kept as the client wrote them", async () => {
    upstream.reset();
    const conversation = await openai.conversations.create({
      items: [{ role: 'user', content: `Mail me at ${EMAIL}` }],
    });
    await openai.responses.create({
      model: 'private-chat',
      input: 'and again?',
      conversation: conversation.id,
    });
    assert.equal(upstream.calls.length, 1);
    assertClean(lastCall());
    assert.match(lastCall(), /Mail me at \[REDACTED:email\]/);
    const items = await openai.conversations.items.list(conversation.id, { order: 'asc' });
    assert.match(JSON.stringify(items.data[0]), new RegExp(EMAIL.replace(/[.@]/g, '\\$&')));
  });

  it('a block-mode detector refuses without calling the provider or echoing the text', async () => {
    upstream.reset();
    const iban = 'DE89 3704 0044 0532 0130 00';
    await assert.rejects(
      openai.chat.completions.create({
        model: 'private-chat',
        messages: [{ role: 'user', content: `wire it to ${iban}` }],
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /security\.promptValidation\.redact \(iban\)/.test(error.message) &&
        !error.message.includes('DE89'),
    );
    assert.equal(upstream.calls.length, 0);
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const geminiTitles = () =>
    gemini.calls.map((call) =>
      (call.body.requests as { title?: string }[]).map((request) => request.title ?? null),
    );

  it("an embedding's document titles reach the provider masked, on /v1 and the Gemini edge", async () => {
    upstream.reset();
    gemini.reset();
    const before = {
      email: await redactions('email'),
      creditCard: await redactions('creditCard'),
      apiKey: await redactions('apiKey'),
    };
    // A /v1 client's provider_extras, one title per input.
    const v1 = await post('/v1/embeddings', {
      model: 'private-gemini-embed',
      input: ['doc one', 'doc two'],
      provider_extras: { task_type: 'RETRIEVAL_DOCUMENT', title: [`To ${EMAIL}`, null] },
    });
    assert.equal(v1.status, 200, v1.text);
    // A Gemini client's title, which the Gemini edge carries in provider_extras.
    const edge = await post('/v1beta/models/private-gemini-embed:batchEmbedContents', {
      requests: [
        {
          model: 'models/private-gemini-embed',
          content: { parts: [{ text: 'doc three' }] },
          taskType: 'RETRIEVAL_DOCUMENT',
          title: `card ${CARD}`,
        },
      ],
    });
    assert.equal(edge.status, 200, edge.text);
    assert.deepEqual(geminiTitles(), [
      ['To [REDACTED:email]', null],
      ['card [REDACTED:creditCard]'],
    ]);
    // Vertex's title beside input, which an OpenAI-format backend gets as it came.
    const beside = await post('/v1/embeddings', {
      model: 'private-embed',
      input: 'doc four',
      title: `key ${KEY}`,
    });
    assert.equal(beside.status, 200, beside.text);
    assert.equal(upstream.calls.at(-1)?.body.title, 'key [REDACTED:apiKey]');
    for (const call of [...gemini.calls, ...upstream.calls]) assertClean(JSON.stringify(call.body));
    assert.equal(await redactions('email'), before.email + 1);
    assert.equal(await redactions('creditCard'), before.creditCard + 1);
    assert.equal(await redactions('apiKey'), before.apiKey + 1);
  });

  it('a block-mode detector matching in a title refuses the embedding without calling the provider', async () => {
    upstream.reset();
    gemini.reset();
    const iban = 'DE89 3704 0044 0532 0130 00';
    const v1 = await post('/v1/embeddings', {
      model: 'private-gemini-embed',
      input: ['doc one', 'doc two'],
      provider_extras: { title: [null, `wire to ${iban}`] },
    });
    const edge = await post('/v1beta/models/private-gemini-embed:embedContent', {
      content: { parts: [{ text: 'doc' }] },
      title: `wire to ${iban}`,
    });
    const beside = await post('/v1/embeddings', {
      model: 'private-embed',
      input: 'doc',
      title: `wire to ${iban}`,
    });
    for (const refused of [v1, edge, beside]) {
      assert.equal(refused.status, 400, refused.text);
      assert.match(refused.text, /security\.promptValidation\.redact \(iban\)/);
      assert.ok(!refused.text.includes('DE89'), refused.text);
    }
    assert.equal(gemini.calls.length + upstream.calls.length, 0);
  });

  it("a chat's predicted output (the file being edited) reaches the provider masked", async () => {
    upstream.reset();
    const before = await redactions('apiKey');
    // The openai client types prediction; its content is read by the model with the prompt.
    await openai.chat.completions.create({
      model: 'private-chat',
      messages: [{ role: 'user', content: 'rename key to apiKey' }],
      prediction: { type: 'content', content: `const key = '${KEY}';` },
    });
    assertClean(lastCall());
    assert.deepEqual(upstream.calls.at(-1)?.body.prediction, {
      type: 'content',
      content: "const key = '[REDACTED:apiKey]';",
    });
    assert.equal(await redactions('apiKey'), before + 1);
  });

  it('a route without redact passes the prompt through; nothing is counted for it', async () => {
    upstream.reset();
    await openai.chat.completions.create({
      model: 'open-chat',
      messages: [{ role: 'user', content: `mail ${EMAIL}` }],
    });
    assert.ok(lastCall().includes(EMAIL));
    assert.equal(await redactions('email', 'open'), 0);
  });

  it('neither the events nor the logs hold a masked text', () => {
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT value FROM events').all() as unknown as { value: string }[];
      assert.ok(rows.length > 0);
      // The open route's prompt was never masked; only the private route's are checked.
      for (const secret of SECRETS.filter((s) => s !== EMAIL)) {
        for (const row of rows) assert.ok(!row.value.includes(secret), `${secret} in an event`);
      }
    } finally {
      db.close();
    }
    for (const secret of SECRETS) assert.ok(!gateway.output().includes(secret), `${secret} logged`);
  });
});
