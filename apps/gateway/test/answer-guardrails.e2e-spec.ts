// security.responseValidation (an extension to the spec) on the all-in-one gateway: what
// the model answers is masked in JSON and in streams (a match split across chunks too), a
// block match withholds the answer with finish_reason content_filter (a refusal on the
// Messages API) and the usage chunk still comes, the metrics count, and no log holds it.
// Reasoning gets the same checks on every API that shows it (reasoning_content, Messages
// thinking blocks with their signatures kept, Responses summaries, Gemini thought parts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { metricSum } from '@aigw/testing';
import {
  ANTHROPIC_FAKE_THINKING,
  ENCRYPTED_REASONING,
  FakeAnthropicUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
const SSN = '123-45-6789';
const SECRETS = [EMAIL, CARD, KEY, SSN, 'oe@example', '6789'];

describe('answer guardrails on the all-in-one gateway', () => {
  const upstream = new FakeOpenAiUpstream('answers');
  const claude = new FakeAnthropicUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-answer-guard-e2e-'));
  let gateway: AppProcess;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    await Promise.all([upstream.start(), claude.start()]);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: guarded}
spec:
  backends:
  - {name: chat, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-chat, modelNameOverride: guarded-chat}
  - name: claude
    provider: anthropic
    baseUrl: ${claude.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: guarded-claude
    auth: {apiKeyRef: {name: anthropic-key}}
  security:
    responseValidation:
      blockPatterns: ["BEGIN PRIVATE KEY"]
      redact:
        detectors: [email, creditCard, apiKey, {name: usSsn, mode: block}]
      streamHoldChars: 64
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: open, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-open, modelNameOverride: open-chat}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: short-hold}
spec:
  backends:
  - {name: short, provider: vllm, baseUrl: ${upstream.baseUrl}, model: upstream-short, modelNameOverride: short-hold-chat}
  security:
    responseValidation:
      redact: {detectors: [apiKey]}
      streamHoldChars: 16
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
    openai = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([upstream.stop(), claude.stop()]);
  });

  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const assertClean = (text: string) => {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} in ${text}`);
  };
  const messages = [{ role: 'user' as const, content: 'tell me' }];

  it('a JSON chat answer is masked before the client sees it, and counted as an answer', async () => {
    upstream.reset();
    upstream.answerWith(['Mail ', EMAIL, ' or pay with ', CARD, '.']);
    const before = metricSum(await metrics(), 'ai_gateway_redactions_total', {
      detector: 'email',
      route: 'guarded',
      direction: 'answer',
      part: 'content',
    });
    const completion = await openai.chat.completions.create({ model: 'guarded-chat', messages });
    assert.equal(
      completion.choices[0].message.content,
      'Mail [REDACTED:email] or pay with [REDACTED:creditCard].',
    );
    assert.equal(completion.choices[0].finish_reason, 'stop');
    const after = metricSum(await metrics(), 'ai_gateway_redactions_total', {
      detector: 'email',
      route: 'guarded',
      direction: 'answer',
      part: 'content',
    });
    assert.equal(after - before, 1);
    // The other route does not check answers: the same answer arrives as it came.
    const open = await openai.chat.completions.create({ model: 'open-chat', messages });
    assert.equal(open.choices[0].message.content, `Mail ${EMAIL} or pay with ${CARD}.`);
  });

  it('Responses (openai client): the output text is masked, and so is what the store keeps', async () => {
    upstream.reset();
    upstream.answerWith(['Key: ', KEY, '.']);
    const response = await openai.responses.create({ model: 'guarded-chat', input: 'tell me' });
    assert.equal(response.output_text, 'Key: [REDACTED:apiKey].');
    const stored = await openai.responses.retrieve(response.id);
    assertClean(JSON.stringify(stored));
  });

  it('a stream: matches split across chunks are masked, the usage chunk still comes', async () => {
    upstream.reset();
    upstream.answerWith([
      'Mail jane.d',
      'oe@exam',
      'ple.com',
      ' key sk-proj-abc',
      KEY.slice(12),
      ' bye.',
    ]);
    const stream = await openai.chat.completions.create({
      model: 'guarded-chat',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'Mail [REDACTED:email] key [REDACTED:apiKey] bye.');
    assert.equal(finish, 'stop');
    assert.equal(usage?.completion_tokens, 6);
  });

  it('streamHoldChars: 16 still masks a key the apiKey detector needs 23 characters of to see', async () => {
    upstream.reset();
    // Each piece shorter than the key's shortest form: a 16-character hold let "sk" out
    // before the key could match, and the rest of it then matched nothing.
    upstream.answerWith(['Your key: ', 'sk-abcdefg', 'hijklmno', 'pqrstuvw', 'xyz1234', ' ok']);
    const stream = await openai.chat.completions.create({
      model: 'short-hold-chat',
      messages,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Your key: [REDACTED:apiKey] ok');
    const completion = await openai.chat.completions.create({ model: 'short-hold-chat', messages });
    assert.equal(completion.choices[0].message.content, text, 'as the JSON answer is masked');
  });

  it('a block match mid-stream ends it with content_filter, the text withheld, usage after it', async () => {
    upstream.reset();
    upstream.answerWith(['Sure. Your SSN is 123-', '45-6789', ' and I also know more.']);
    const before = metricSum(await metrics(), 'ai_gateway_answers_blocked_total', {
      rule: 'usSsn',
      route: 'guarded',
      part: 'content',
    });
    const stream = await openai.chat.completions.create({
      model: 'guarded-chat',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'Sure. Your SSN is ');
    assert.deepEqual(finishes, ['content_filter']);
    assert.ok(usage, 'the usage chunk still arrives');
    const after = metricSum(await metrics(), 'ai_gateway_answers_blocked_total', {
      rule: 'usSsn',
      route: 'guarded',
      part: 'content',
    });
    assert.equal(after - before, 1);
  });

  it('a block match in a JSON answer: content withheld, finish_reason content_filter', async () => {
    upstream.reset();
    upstream.answerWith(['-----BEGIN PRIVATE KEY-----\n', 'MIIEvQIBADANBg']);
    const completion = await openai.chat.completions.create({ model: 'guarded-chat', messages });
    assert.equal(completion.choices[0].finish_reason, 'content_filter');
    assert.equal(completion.choices[0].message.content, null);
  });

  it('Anthropic Messages (official SDK): the text block masked, a block match a refusal', async () => {
    upstream.reset();
    upstream.answerWith([`Reach me at ${EMAIL}.`]);
    const message = await anthropic.messages.create({
      model: 'guarded-chat',
      max_tokens: 100,
      messages,
    });
    assert.deepEqual(
      message.content.map((block) => (block.type === 'text' ? block.text : block.type)),
      ['Reach me at [REDACTED:email].'],
    );
    upstream.answerWith([`It is ${SSN}.`]);
    const refused = await anthropic.messages.create({
      model: 'guarded-chat',
      max_tokens: 100,
      messages,
    });
    assert.equal(refused.stop_reason, 'refusal');
    assertClean(JSON.stringify(refused));
    // Streamed, the SSN split across events: the text before it, then the refusal.
    upstream.answerWith(['It is 123-4', '5-6789 for sure.']);
    const streamed = await anthropic.messages
      .stream({ model: 'guarded-chat', max_tokens: 100, messages })
      .finalMessage();
    assert.equal(streamed.stop_reason, 'refusal');
    assert.deepEqual(
      streamed.content.map((block) => (block.type === 'text' ? block.text : block.type)),
      ['It is '],
    );
    // Nothing masked or withheld reached a log line either.
    const output = gateway.output();
    for (const secret of [CARD, KEY, SSN, '45-6789']) {
      assert.ok(!output.includes(secret), `${secret} logged`);
    }
  });
  // Reasoning hits are counted apart from content hits (part="reasoning").
  const blockedCount = async (rule: string, part = 'reasoning') =>
    metricSum(await metrics(), 'ai_gateway_answers_blocked_total', {
      rule,
      route: 'guarded',
      part,
    });
  const redactedCount = async (detector: string, part = 'reasoning') =>
    metricSum(await metrics(), 'ai_gateway_redactions_total', {
      detector,
      route: 'guarded',
      direction: 'answer',
      part,
    });
  type ReasoningMessage = { content: string | null; reasoning_content?: string };

  it('chat JSON: reasoning_content is masked, and a block match in it withholds the answer', async () => {
    upstream.reset();
    upstream.answerWith(['All done.']).reasonWith(['I will mail ', EMAIL, ' the card ', CARD]);
    const redactedBefore = await redactedCount('email');
    const contentBefore = await redactedCount('email', 'content');
    const completion = await openai.chat.completions.create({ model: 'guarded-chat', messages });
    const message = completion.choices[0].message as ReasoningMessage;
    assert.equal(message.content, 'All done.');
    assert.equal(
      message.reasoning_content,
      'I will mail [REDACTED:email] the card [REDACTED:creditCard]',
    );
    assert.equal((await redactedCount('email')) - redactedBefore, 1);
    assert.equal((await redactedCount('email', 'content')) - contentBefore, 0, 'not a content hit');

    upstream.reasonWith([`The user's SSN is ${SSN}.`]);
    const blockedBefore = await blockedCount('usSsn');
    const withheld = await openai.chat.completions.create({ model: 'guarded-chat', messages });
    assert.equal(withheld.choices[0].finish_reason, 'content_filter');
    assert.equal(withheld.choices[0].message.content, null);
    assertClean(JSON.stringify(withheld));
    assert.equal((await blockedCount('usSsn')) - blockedBefore, 1);
    // vLLM's `reasoning` field too.
    upstream.reasonWith(['-----BEGIN PRIVATE KEY-----'], 'reasoning');
    const vllm = await openai.chat.completions.create({ model: 'guarded-chat', messages });
    assert.equal(vllm.choices[0].finish_reason, 'content_filter');
    assert.ok(!JSON.stringify(vllm).includes('PRIVATE KEY'));
  });

  it('chat stream: reasoning_content is held and masked; a block match ends the choice, usage after it', async () => {
    upstream.reset();
    upstream.answerWith(['Fine.']).reasonWith(['Mail jane.d', 'oe@exam', 'ple.com now.']);
    const read = async () => {
      const stream = await openai.chat.completions.create({
        model: 'guarded-chat',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
      let reasoning = '';
      let text = '';
      const finishes: string[] = [];
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string };
        reasoning += delta?.reasoning_content ?? '';
        text += delta?.content ?? '';
        if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
        usage = chunk.usage ?? usage;
      }
      return { reasoning, text, finishes, usage };
    };
    const masked = await read();
    assert.equal(masked.reasoning, 'Mail [REDACTED:email] now.');
    assert.equal(masked.text, 'Fine.');
    assert.deepEqual(masked.finishes, ['stop']);

    upstream.reasonWith(['Their SSN is 123-', '45-6789 so', ' I can say it.']);
    const blockedBefore = await blockedCount('usSsn');
    const blocked = await read();
    assert.equal(blocked.reasoning, 'Their SSN is ');
    assert.equal(blocked.text, '');
    assert.deepEqual(blocked.finishes, ['content_filter']);
    assert.ok(blocked.usage, 'the usage chunk still arrives');
    assert.equal((await blockedCount('usSsn')) - blockedBefore, 1);
  });

  it("OpenRouter's reasoning_details: the text entries masked, JSON and streamed; encrypted ones as they came", async () => {
    upstream.reset();
    upstream
      .answerWith(['Done.'])
      .reasonWith(['Mail jane.d', 'oe@exam', 'ple.com now.'], 'reasoning_details');
    type Detail = { type: string; text?: string; data?: string; index: number };
    type Details = { reasoning?: string; reasoning_details?: Detail[] };
    const completion = await openai.chat.completions.create({ model: 'guarded-chat', messages });
    const message = completion.choices[0].message as unknown as Details;
    assert.deepEqual(message.reasoning_details, [
      { type: 'reasoning.text', text: 'Mail [REDACTED:email] now.', format: 'unknown', index: 0 },
      ENCRYPTED_REASONING,
    ]);
    const stream = await openai.chat.completions.create({
      model: 'guarded-chat',
      messages,
      stream: true,
    });
    let text = '';
    const opaque: Detail[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as Details | undefined;
      for (const detail of delta?.reasoning_details ?? []) {
        if (detail.type === 'reasoning.text') text += detail.text ?? '';
        else opaque.push(detail);
      }
    }
    assert.equal(text, 'Mail [REDACTED:email] now.');
    assert.deepEqual(opaque, [ENCRYPTED_REASONING]);
    // A block match in them withholds the choice.
    upstream.reasonWith([`SSN ${SSN}`], 'reasoning_details');
    const withheld = await openai.chat.completions.create({ model: 'guarded-chat', messages });
    assert.equal(withheld.choices[0].finish_reason, 'content_filter');
    assertClean(JSON.stringify(withheld));
  });

  it('Anthropic Messages on a Claude backend: thinking masked with its signature kept, a block match a refusal', async () => {
    claude.reset();
    claude.thinkWith(`Reply to ${EMAIL} later.`);
    const ask = {
      model: 'guarded-claude',
      max_tokens: 2048,
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      messages,
    };
    const message = await anthropic.messages.create(ask);
    assert.deepEqual(message.content[0], {
      type: 'thinking',
      thinking: 'Reply to [REDACTED:email] later.',
      signature: ANTHROPIC_FAKE_THINKING.signature,
    });
    assert.equal(message.stop_reason, 'end_turn');
    const stream = anthropic.messages.stream(ask);
    let thought = '';
    stream.on('thinking', (delta) => (thought += delta));
    const streamed = await stream.finalMessage();
    assert.equal(thought, 'Reply to [REDACTED:email] later.');
    assert.deepEqual(streamed.content[0], {
      type: 'thinking',
      thinking: 'Reply to [REDACTED:email] later.',
      signature: ANTHROPIC_FAKE_THINKING.signature,
    });
    assert.deepEqual(streamed.content[1], { type: 'text', text: 'Hello from Claude.' });

    claude.thinkWith(`SSN ${SSN} is known.`);
    const blockedBefore = await blockedCount('usSsn');
    const refused = await anthropic.messages.create(ask);
    assert.equal(refused.stop_reason, 'refusal');
    assertClean(JSON.stringify(refused));
    const refusedStream = await anthropic.messages.stream(ask).finalMessage();
    assert.equal(refusedStream.stop_reason, 'refusal');
    assertClean(JSON.stringify(refusedStream));
    assert.equal((await blockedCount('usSsn')) - blockedBefore, 2);
  });

  it('Responses: the reasoning summary is masked, JSON and streamed; a block match leaves it incomplete', async () => {
    upstream.reset();
    upstream.answerWith(['Fine.']).reasonWith(['Key ', KEY, ' seen.']);
    const summaryOf = (output: OpenAI.Responses.ResponseOutputItem[]) =>
      output.flatMap((item) => (item.type === 'reasoning' ? item.summary.map((s) => s.text) : []));
    const response = await openai.responses.create({ model: 'guarded-chat', input: 'tell me' });
    assert.deepEqual(summaryOf(response.output), ['Key [REDACTED:apiKey] seen.']);
    const stream = await openai.responses.create({
      model: 'guarded-chat',
      input: 'tell me',
      stream: true,
    });
    let deltas = '';
    let done: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.reasoning_summary_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') done = event.response;
    }
    assert.equal(deltas, 'Key [REDACTED:apiKey] seen.');
    assert.deepEqual(summaryOf(done?.output ?? []), ['Key [REDACTED:apiKey] seen.']);
    upstream.reasonWith([`SSN ${SSN}`]);
    const blocked = await openai.responses.create({ model: 'guarded-chat', input: 'tell me' });
    assert.equal(blocked.status, 'incomplete');
    assertClean(JSON.stringify(blocked));
  });

  it('Gemini generateContent: a thought part is masked, streamed too', async () => {
    upstream.reset();
    upstream.answerWith(['Fine.']).reasonWith(['Write to ', EMAIL, '.']);
    const body = JSON.stringify({
      contents: [{ role: 'user', parts: [{ text: 'tell me' }] }],
      generationConfig: { thinkingConfig: { includeThoughts: true } },
    });
    const call = (method: string) =>
      fetch(`${gateway.baseUrl}/v1beta/models/guarded-chat:${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': 'unused' },
        body,
      });
    const thoughts = (candidates: unknown) =>
      ((candidates as { content?: { parts?: { text?: string; thought?: boolean }[] } }[]) ?? [])
        .flatMap((c) => c.content?.parts ?? [])
        .filter((part) => part.thought)
        .map((part) => part.text)
        .join('');
    const plain = (await (await call('generateContent')).json()) as { candidates: unknown };
    assert.equal(thoughts(plain.candidates), 'Write to [REDACTED:email].');
    const sse = await (await call('streamGenerateContent?alt=sse')).text();
    const events = sse
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { candidates?: unknown });
    assert.equal(events.map((e) => thoughts(e.candidates)).join(''), 'Write to [REDACTED:email].');
    assertClean(sse);
  });
});
