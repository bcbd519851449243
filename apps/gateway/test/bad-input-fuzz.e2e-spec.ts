// Property-based checks of the gateway's edges with a seeded generator (FUZZ_SEED to
// replay; the seed and the case are in every failure message). One all-in-one gateway on
// fake OpenAI, Anthropic and Gemini backends and a scripted one:
//  1. malformed requests (JSON, multipart, many at once) on every public model endpoint
//     get a 4xx in that API's own error shape (OpenAI, Anthropic, Google), never a 5xx,
//     never reach a backend, never echo a provider key or one pasted into the URL;
//  2. a backend answering garbage (bytes, truncated JSON, wrong shapes, a stream that
//     stops mid-event, its key echoed) gives the client a 5xx in the right shape or a
//     stream ending with its error event: never a hang, never a finished-looking stream;
//  3. a backend answer with a field of a wrong type is a readable answer or a 502-504,
//     never the gateway's own 500;
//  4. afterwards the gateway still answers, /metrics scrape, its log holds no key and no
//     failure of its own. The cases the fuzzing found are kept as examples.
// Generators and checks live in ./fuzz.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum } from '@aigw/testing';
import {
  FakeAnthropicUpstream,
  FakeGeminiUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import {
  assertErrorShape,
  assertNoSecret,
  assertReadable,
  describeAttempt,
  HANG_MS,
  hasErrorEvent,
  looksFinished,
  send,
  type Answer,
} from './fuzz/answer-checks';
import { multipartAttempt, mutateForm, PNG, WAV, type FormPart } from './fuzz/bad-forms';
import {
  endpoints,
  GEMINI_BODY,
  mutate,
  PASTED_KEY,
  richEndpoints,
  unchanged,
  USER_TURN,
  type Attempt,
  type Endpoint,
  type Format,
} from './fuzz/bad-requests';
import {
  garbage,
  reshaped,
  ScriptedUpstream,
  streamFrames,
  type Provider,
  type Scripted,
  type ScriptedCall,
} from './fuzz/scripted-upstream';
import { Rng, type Json } from './fuzz/seeded-json';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026);
/** Bad-input cases per endpoint, and garbage answers per (endpoint, backend) pair. */
const CASES_PER_ENDPOINT = 36;
const GARBAGE_PER_PAIR = 8;
/** Answers with one field of a wrong type, per (endpoint, backend) pair. */
const RESHAPED_PER_PAIR = 8;
/** Malformed multipart forms per form endpoint. */
const MULTIPART_CASES = 30;
/** Malformed requests sent in waves of BURST_WIDTH at once. */
const BURST = 120;
const BURST_WIDTH = 12;
/** Bad-input cases per rich chat request (see richEndpoints) on each backend. */
const CASES_PER_RICH_ENDPOINT = 16;
/** Bad-input cases per chat endpoint on each translating backend (Anthropic, Gemini). */
const CASES_PER_TRANSLATED_ENDPOINT = 14;

const SECRETS = {
  openai: 'sk-fuzz-openai-SECRET-7f3a9c',
  anthropic: 'sk-ant-fuzz-SECRET-91bc04',
  gemini: 'AIzaFuzzSECRET55e1d7',
} as const;
const KEYS = Object.values(SECRETS);
/** The scripted backends' request and first-byte timeouts, in seconds. */
const STALL_TIMEOUT_S = 3;

describe('bad input and bad upstream answers, fuzzed (all-in-one gateway)', () => {
  const upstream = new FakeOpenAiUpstream('fuzz');
  // Backends the gateway translates chat requests for, where a field of a wrong type could
  // break the translation rather than be relayed.
  const claude = new FakeAnthropicUpstream();
  const gemini = new FakeGeminiUpstream();
  const upstreamCalls = () => upstream.calls.length + claude.calls.length + gemini.calls.length;
  const scripted = new ScriptedUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-fuzz-'));
  let gateway: AppProcess;
  let failed = false;

  /** Fails with every failing case (the first ones in full), so one run shows them all. */
  function report(failures: string[]): void {
    if (failures.length === 0) return;
    failed = true;
    assert.fail(`${failures.length} failing case(s):\n${failures.slice(0, 40).join('\n\n')}`);
  }

  before(async () => {
    await Promise.all([upstream.start(), claude.start(), gemini.start(), scripted.start()]);
    const openai = `provider: openai, baseUrl: "${upstream.baseUrl}", auth: {apiKeyRef: {name: openai-key}}`;
    // Short timeouts: a backend stuck mid-answer is cut within seconds, not minutes.
    const junk = (provider: string, base: string, key: string) =>
      `provider: ${provider}, baseUrl: "${scripted.origin}${base}", auth: {apiKeyRef: {name: ${key}}}, ` +
      `requestTimeout: ${STALL_TIMEOUT_S}s, firstByteTimeout: ${STALL_TIMEOUT_S}s`;
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: fuzz}
spec:
  backends:
  - {name: chat, ${openai}, model: gpt-4o-mini, modelNameOverride: gpt-fuzz}
  - {name: embed, ${openai}, model: text-embedding-3-small, modelNameOverride: embed-fuzz}
  - {name: image, ${openai}, model: dall-e-3, modelNameOverride: image-fuzz}
  - {name: mod, ${openai}, model: omni-moderation-latest, modelNameOverride: mod-fuzz}
  - {name: stt, ${openai}, model: whisper-1, modelNameOverride: stt-fuzz}
  - {name: editor, ${openai}, model: gpt-image-1, modelNameOverride: edit-fuzz}
  - {name: claude, provider: anthropic, baseUrl: "${claude.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-sonnet-4-5, modelNameOverride: claude-fuzz}
  - {name: gemini, provider: google-gemini, baseUrl: "${gemini.baseUrl}", auth: {apiKeyRef: {name: gemini-key}}, model: gemini-2.5-flash, modelNameOverride: gemini-fuzz}
  - {name: junk-openai, ${junk('openai', '/v1', 'openai-key')}, model: gpt-4o-mini, modelNameOverride: junk-openai}
  - {name: junk-embed, ${junk('openai', '/v1', 'openai-key')}, model: text-embedding-3-small, modelNameOverride: junk-embed}
  - {name: junk-claude, ${junk('anthropic', '', 'anthropic-key')}, model: claude-sonnet-4-5, modelNameOverride: junk-claude}
  - {name: junk-gemini, ${junk('google-gemini', '/v1beta', 'gemini-key')}, model: gemini-2.5-flash, modelNameOverride: junk-gemini}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: SECRETS.openai,
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: SECRETS.anthropic,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: SECRETS.gemini,
    });
  });
  after(async () => {
    if (failed) console.log(`bad-input fuzz failed; replay with FUZZ_SEED=${SEED}`);
    await gateway.stop();
    await Promise.all([upstream.stop(), claude.stop(), gemini.stop(), scripted.stop()]);
  });

  it(`answers malformed requests with a 4xx in each API's error format, never calling the upstream (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    const failures: string[] = [];
    let index = 0;
    const translated = ['chat', 'responses', 'messages', 'gemini generateContent'];
    const plan: [Endpoint, number][] = [
      ...endpoints('gpt-fuzz', 'embed-fuzz').map((e): [Endpoint, number] => [
        e,
        CASES_PER_ENDPOINT,
      ]),
      ...['gpt-fuzz', 'claude-fuzz', 'gemini-fuzz'].flatMap((model) =>
        richEndpoints(model).map((e): [Endpoint, number] => [e, CASES_PER_RICH_ENDPOINT]),
      ),
      ...['claude-fuzz', 'gemini-fuzz'].flatMap((model) =>
        endpoints(model, 'embed-fuzz')
          .filter((e) => translated.includes(e.name) || e.name.includes('stream'))
          .map((e): [Endpoint, number] => [e, CASES_PER_TRANSLATED_ENDPOINT]),
      ),
    ];
    for (const [endpoint, cases] of plan) {
      for (let i = 0; i < cases; i++, index++) {
        // The first, unchanged, is answered: else refusing every case would prove nothing.
        const attempt = i === 0 ? unchanged(endpoint) : mutate(endpoint, rng);
        try {
          const describeIt = describeAttempt(endpoint, attempt, index, SEED);
          const callsBefore = upstreamCalls();
          const answer = await send(gateway, attempt, describeIt);
          const called = upstreamCalls() - callsBefore;
          if (i === 0) {
            assert.equal(answer.status, 200, `${describeIt}: ${answer.text.slice(0, 300)}`);
          }
          assertNoSecret(answer, describeIt, [...KEYS, PASTED_KEY]);
          assert.ok(
            answer.status < 500,
            `${describeIt}: answered ${answer.status}: ${answer.text.slice(0, 300)}`,
          );
          if (attempt.mustRefuse) {
            assert.ok(
              answer.status >= 400,
              `${describeIt}: accepted (${answer.status}): ${answer.text.slice(0, 200)}`,
            );
          }
          if (answer.status >= 400) {
            assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
            // A 4xx of the gateway's own never reaches the upstream; one the upstream
            // sent (a model refusing a setting) is relayed, naming the backend.
            if (called > 0) {
              assert.match(
                answer.text,
                /backend \\"[^"\\]+\\" answered 4\d\d/,
                `${describeIt}: refused with ${answer.status} but the upstream was called: ${answer.text.slice(0, 300)}`,
              );
            }
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  /** Each client endpoint on each backend kind, plain and streamed where it streams. */
  function scriptedPairs(): [Endpoint, Provider, boolean][] {
    const pairs: [Endpoint, Provider, boolean][] = [];
    for (const [model, provider] of [
      ['junk-openai', 'openai'],
      ['junk-claude', 'anthropic'],
      ['junk-gemini', 'gemini'],
    ] as const) {
      for (const endpoint of endpoints(model, 'junk-embed')) {
        if (['images', 'moderations', 'count_tokens'].includes(endpoint.name)) continue;
        if (endpoint.name.includes('mbedContent')) continue;
        // Only OpenAI's wire has legacy completions and (here) embeddings.
        if (['embeddings', 'completions'].includes(endpoint.name) && provider !== 'openai') {
          continue;
        }
        // Gemini's stream is its own path; the others ask for one in the body.
        const streams =
          endpoint.format === 'gemini'
            ? [endpoint.path.includes('streamGenerateContent')]
            : endpoint.name === 'embeddings'
              ? [false]
              : [false, true];
        for (const stream of streams) pairs.push([endpoint, provider, stream]);
      }
    }
    return pairs;
  }

  /**
   * Sends the endpoint's valid request with the scripted backend answering each call as
   * `script` says; returns the client's answer and a description naming what was sent.
   */
  async function sendScripted(
    endpoint: Endpoint,
    stream: boolean,
    script: (call: ScriptedCall) => Scripted,
    what: string,
  ): Promise<{ answer: Answer; describeIt: string; shown: string; isStream: boolean }> {
    const labels: string[] = [];
    scripted.script = (call) => {
      const scriptedAnswer = script(call);
      const sent = Buffer.concat(scriptedAnswer.parts).toString('utf8').slice(0, 200);
      labels.push(`${scriptedAnswer.label} (${scriptedAnswer.status}: ${JSON.stringify(sent)})`);
      return scriptedAnswer;
    };
    const body =
      stream && endpoint.format !== 'gemini'
        ? { ...(endpoint.body as Record<string, Json>), stream: true }
        : endpoint.body;
    const attempt: Attempt = {
      method: 'POST',
      path: endpoint.path,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(body)),
      mutation: 'valid',
      mustRefuse: false,
    };
    const callsBefore = scripted.calls;
    const answer = await send(gateway, attempt, what);
    const describeIt = `${what} stream=${stream} upstream answered: ${labels.join(', ')}`;
    assert.ok(scripted.calls > callsBefore, `${describeIt}: the backend was not called`);
    assertNoSecret(answer, describeIt, KEYS);
    const shown = `${describeIt}; client got ${answer.status}: ${answer.text.slice(0, 400)}`;
    const isStream = (answer.headers.get('content-type') ?? '').startsWith('text/event-stream');
    if (isStream) assert.ok(stream, `an event stream for a plain request: ${shown}`);
    return { answer, describeIt, shown, isStream };
  }

  it(`answers an upstream's garbage with a 5xx in the right format or a stream error event (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x9e37_79b9);
    const failures: string[] = [];
    let index = 0;
    for (const [endpoint, provider, stream] of scriptedPairs()) {
      for (let i = 0; i < GARBAGE_PER_PAIR; i++, index++) {
        const seed = rng.int(2 ** 31);
        try {
          const { answer, describeIt, shown, isStream } = await sendScripted(
            endpoint,
            stream,
            (call) => garbage(provider, call, new Rng(seed), SECRETS[provider]),
            `[FUZZ_SEED=${SEED} garbage case ${index}] ${endpoint.name} on ${provider}`,
          );
          if (answer.status === 200 && isStream) {
            assert.ok(
              !looksFinished(endpoint.format, endpoint.path, answer.text),
              `a broken stream looks finished: ${shown}`,
            );
            assert.ok(
              hasErrorEvent(endpoint.format, endpoint.path, answer.text),
              `no error event: ${shown}`,
            );
          } else {
            assert.ok(answer.status >= 400, `garbage answered as a success: ${shown}`);
            assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  it(`answers an upstream answer with one field of a wrong type as a readable answer or a 502-504, never a 500 (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x85eb_ca6b);
    const failures: string[] = [];
    let index = 0;
    for (const [endpoint, provider, stream] of scriptedPairs()) {
      for (let i = 0; i < RESHAPED_PER_PAIR; i++, index++) {
        const seed = rng.int(2 ** 31);
        try {
          const { answer, describeIt, shown, isStream } = await sendScripted(
            endpoint,
            stream,
            (call) => reshaped(provider, call, new Rng(seed)),
            `[FUZZ_SEED=${SEED} reshaped case ${index}] ${endpoint.name} on ${provider}`,
          );
          if (answer.status >= 400) {
            // The backend's fault, said as such: a 500 would be the gateway's own failure.
            assert.ok(answer.status >= 502 && answer.status <= 504, `not a 502-504: ${shown}`);
            assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
          } else if (isStream) {
            const finished = looksFinished(endpoint.format, endpoint.path, answer.text);
            const failed = hasErrorEvent(endpoint.format, endpoint.path, answer.text);
            assert.ok(finished !== failed, `a stream must end finished or failed: ${shown}`);
          } else {
            assert.equal(answer.status, 200, shown);
            assertReadable(endpoint, answer.text, shown);
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  it(`answers malformed requests sent many at a time the same way (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x27d4_eb2f);
    const all = endpoints('gpt-fuzz', 'embed-fuzz');
    const attempts = Array.from({ length: BURST }, (_, index) => {
      const endpoint = rng.pick(all);
      return { endpoint, attempt: mutate(endpoint, rng), index };
    });
    const failures: string[] = [];
    // In waves of BURST_WIDTH: each wave's requests in flight together.
    for (let start = 0; start < attempts.length; start += BURST_WIDTH) {
      await Promise.all(
        attempts.slice(start, start + BURST_WIDTH).map(async ({ endpoint, attempt, index }) => {
          const describeIt = `[burst] ${describeAttempt(endpoint, attempt, index, SEED)}`;
          try {
            const answer = await send(gateway, attempt, describeIt);
            assertNoSecret(answer, describeIt, KEYS);
            assert.ok(answer.status < 500, `${describeIt}: answered ${answer.status}`);
            if (attempt.mustRefuse) assert.ok(answer.status >= 400, `${describeIt}: accepted`);
            if (answer.status >= 400) {
              assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
            }
          } catch (error) {
            failures.push((error as Error).message);
          }
        }),
      );
    }
    report(failures);
  });

  it(`answers malformed multipart forms (audio, image edits) with a 4xx in OpenAI's shape (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x1656_67b1);
    const failures: string[] = [];
    const forms: [string, FormPart[]][] = [
      [
        '/v1/audio/transcriptions',
        [
          { name: 'model', value: 'stt-fuzz' },
          { name: 'file', value: WAV, filename: 'clip.wav', type: 'audio/wav' },
          { name: 'response_format', value: 'json' },
        ],
      ],
      [
        '/v1/images/edits',
        [
          { name: 'model', value: 'edit-fuzz' },
          { name: 'prompt', value: 'a hat' },
          { name: 'image', value: PNG, filename: 'cat.png', type: 'image/png' },
        ],
      ],
    ];
    let index = 0;
    for (const [path, parts] of forms) {
      for (let i = 0; i < MULTIPART_CASES; i++, index++) {
        const attempt =
          i === 0 ? multipartAttempt(path, parts, 'none', false) : mutateForm(path, parts, rng);
        const describeIt = `[FUZZ_SEED=${SEED} form case ${index}] POST ${path} mutation=${attempt.mutation} content-type=${attempt.contentType}`;
        try {
          const callsBefore = upstreamCalls();
          const answer = await send(gateway, attempt, describeIt);
          const called = upstreamCalls() - callsBefore;
          const shown = `${describeIt}: ${answer.status} ${answer.text.slice(0, 300)}`;
          assertNoSecret(answer, describeIt, KEYS);
          if (i === 0) assert.equal(answer.status, 200, shown);
          assert.ok(answer.status < 500, shown);
          if (attempt.mustRefuse) assert.ok(answer.status >= 400, `accepted: ${shown}`);
          if (answer.status >= 400) {
            assertErrorShape('openai', answer.status, answer.text, describeIt);
            if (called > 0)
              assert.match(
                answer.text,
                /backend \\"[^"\\]+\\" answered 4\d\d/,
                `upstream called: ${shown}`,
              );
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  it("cuts a backend that stops answering (before its headers, or mid-stream with the connection open) within its timeout, in each API's shape", async () => {
    scripted.script = (call) => {
      const provider: Provider = call.path.includes('/messages')
        ? 'anthropic'
        : call.path.includes(':')
          ? 'gemini'
          : 'openai';
      const { frames } = streamFrames(provider, 'm');
      return {
        status: 200,
        contentType: call.stream ? 'text/event-stream' : 'application/json',
        parts: call.stream ? frames.slice(0, 2).map((frame) => Buffer.from(frame)) : [],
        drop: false,
        stall: true,
        label: 'stalled',
      };
    };
    const cases: [Endpoint, boolean][] = [];
    for (const model of ['junk-openai', 'junk-claude', 'junk-gemini']) {
      for (const endpoint of endpoints(model, 'junk-embed')) {
        if (endpoint.name === 'chat') cases.push([endpoint, false], [endpoint, true]);
        if (model === 'junk-openai' && ['messages', 'responses'].includes(endpoint.name)) {
          cases.push([endpoint, true]);
        }
        if (model === 'junk-openai' && endpoint.name === 'gemini streamGenerateContent') {
          cases.push([endpoint, true]);
        }
      }
    }
    // All at once: each waits out the same timeout.
    const failures: string[] = [];
    await Promise.all(
      cases.map(async ([endpoint, stream]) => {
        const started = Date.now();
        try {
          const { answer, describeIt, shown, isStream } = await sendScripted(
            endpoint,
            stream,
            scripted.script,
            `[stall] ${endpoint.name} at ${endpoint.path} ${JSON.stringify(endpoint.body).slice(0, 40)}`,
          );
          assert.ok(Date.now() - started < HANG_MS, `not cut in time: ${shown}`);
          if (answer.status === 200 && isStream) {
            assert.ok(
              hasErrorEvent(endpoint.format, endpoint.path, answer.text),
              `no error event: ${shown}`,
            );
            assert.ok(!looksFinished(endpoint.format, endpoint.path, answer.text), shown);
          } else {
            assert.ok(answer.status >= 502 && answer.status <= 504, `not a 502-504: ${shown}`);
            assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }),
    );
    report(failures);
  });

  // Cases the fuzzing found, kept as examples (each was a 200 before its fix).
  it('refuses an embeddings input or a completion prompt of a type OpenAI does not take, calling nothing', async () => {
    for (const [path, fields] of [
      ['/v1/embeddings', { model: 'embed-fuzz', input: 9007199254740992 }],
      ['/v1/embeddings', { model: 'embed-fuzz', input: true }],
      ['/v1/embeddings', { model: 'embed-fuzz', input: {} }],
      ['/v1/completions', { model: 'gpt-fuzz', prompt: 5 }],
    ] as const) {
      const callsBefore = upstream.calls.length;
      const response = await fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fields),
      });
      const text = await response.text();
      assert.equal(response.status, 400, `${JSON.stringify(fields)}: ${text}`);
      assertErrorShape('openai', 400, text, JSON.stringify(fields));
      const error = (JSON.parse(text) as { error: { param?: string } }).error;
      assert.equal(error.param, 'input' in fields ? 'input' : 'prompt');
      assert.equal(upstream.calls.length, callsBefore, 'the upstream is not called');
    }
  });

  it("answers an OpenAI backend's unreadable answer with a 502 in each API's shape", async () => {
    const unreadable: [string, Json][] = [
      ['junk-openai', { choices: [{ message: null }] }],
      ['junk-openai', { choices: [{ message: { content: 5 } }] }],
      // The Messages edge read each tool call: a null one was a 500 (a TypeError).
      ['junk-openai', { choices: [{ message: { content: null, tool_calls: [null] } }] }],
      ['junk-embed', { data: [{ embedding: 'x' }] }],
    ];
    for (const [model, answer] of unreadable) {
      scripted.script = () => ({
        status: 200,
        contentType: 'application/json',
        parts: [Buffer.from(JSON.stringify(answer))],
        drop: false,
        label: 'example',
      });
      const paths: [string, Format, Json][] =
        model === 'junk-embed'
          ? [['/v1/embeddings', 'openai', { model, input: 'hi' }]]
          : [
              ['/v1/chat/completions', 'openai', { model, messages: USER_TURN }],
              ['/v1/responses', 'openai', { model, input: 'hi' }],
              ['/v1/messages', 'anthropic', { model, max_tokens: 5, messages: USER_TURN }],
              [`/v1beta/models/${model}:generateContent`, 'gemini', GEMINI_BODY],
            ];
      for (const [path, format, body] of paths) {
        const response = await fetch(`${gateway.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        const shown = `${path} on ${JSON.stringify(answer)}: ${text}`;
        assert.equal(response.status, 502, shown);
        assertErrorShape(format, 502, text, shown);
      }
    }
  });

  it('ends a stream whose tool call fragment is null with its error event on every edge, as the backend fault it is', async () => {
    const chunk = (delta: Json) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    scripted.script = () => ({
      status: 200,
      contentType: 'text/event-stream',
      parts: [
        chunk({ role: 'assistant', content: 'Hi' }),
        chunk({ tool_calls: [null] }),
        'data: [DONE]\n\n',
      ].map((part) => Buffer.from(part)),
      drop: false,
      label: 'example',
    });
    const internal = () => (gateway.output().match(/request failed unexpectedly/g) ?? []).length;
    const before = internal();
    for (const endpoint of endpoints('junk-openai', 'junk-embed')) {
      if (
        !['chat', 'responses', 'messages', 'gemini streamGenerateContent'].includes(endpoint.name)
      )
        continue;
      const { answer, shown, isStream } = await sendScripted(
        endpoint,
        true,
        scripted.script,
        `null tool call: ${endpoint.name}`,
      );
      assert.equal(answer.status, 200, shown);
      assert.ok(isStream, shown);
      assert.ok(
        hasErrorEvent(endpoint.format, endpoint.path, answer.text),
        `no error event: ${shown}`,
      );
      assert.ok(!looksFinished(endpoint.format, endpoint.path, answer.text), shown);
    }
    // The Gemini edge's translator failed on it (a TypeError, logged as the gateway's own).
    assert.equal(internal(), before, 'counted as a failure of the gateway');
  });

  it('still answers a valid request, and its /metrics still scrape, after the fuzzing', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-fuzz', messages: USER_TURN }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]?.message.content, 'Hello from the fake upstream.');
    const metrics = await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.ok(metricSum(text, 'ai_gateway_requests_total', {}) > 300, 'every request counted');
    for (const secret of Object.values(SECRETS)) assert.ok(!text.includes(secret));
    // Its own log: no provider key, and nothing it counted as its own failure (a bug it
    // caught and answered, say, or a promise nobody awaited).
    const log = gateway.output();
    for (const secret of Object.values(SECRETS))
      assert.ok(!log.includes(secret), 'a key in the log');
    const failures = log
      .split('\n')
      .filter((line) => /"level":"(error|fatal)"|Unhandled|uncaught/i.test(line));
    assert.deepEqual(failures, [], 'the gateway logged failures of its own');
  });
});
