import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  REQUEST_SETTINGS,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
  type RequestSetting,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import type { ProviderAdapter } from './provider-adapter';
import {
  NO_SETTINGS,
  OPENAI_SETTINGS,
  reportingUnsupported,
  unsupportedSettings,
  SettingsLeftOut,
  withDroppedSettings,
} from './settings-left-out';
import { ANTHROPIC_SETTINGS, MESSAGES_API_SETTINGS } from '../anthropic/anthropic-request';
import { converseSettings } from '../bedrock/bedrock-request';
import { COHERE_CHAT_SETTINGS } from '../cohere/cohere-request';
import { geminiSettings } from '../gemini/gemini-settings';
import { vertexSettings } from '../vertex/vertex.adapter';

const usage = {
  inputTokens: 1,
  outputTokens: 1,
  cachedInputTokens: 0,
  source: 'reported' as const,
};
const servedBy = { backend: 'b', provider: 'vllm', model: 'm' };

/** An adapter answering `answer` to every call, as the backend that answered. */
function answering(answer: GatewayAnswer): ProviderAdapter {
  return { name: 'fake', canHandle: () => true, invoke: () => Promise.resolve(answer) };
}

const json: GatewayAnswer = { kind: 'json', status: 200, body: {}, usage, servedBy };

function callFor(body: JsonObject, model = 'm'): ProviderCall {
  return {
    request: gatewayChatRequest(body),
    target: {
      backendName: 'b',
      provider: 'vllm',
      model,
      requestTimeoutMs: 1000,
      firstByteTimeoutMs: 1000,
    },
    signal: new AbortController().signal,
  };
}

/** The settings `body` asks for: all that a provider taking none reports left out. */
const askedSettings = (body: JsonObject) =>
  unsupportedSettings(body, NO_SETTINGS).map(({ setting }) => setting);

describe('the settings a request asks for', () => {
  it('names each by its canonical name, provider_extras fields included', () => {
    const body = {
      temperature: 0,
      top_p: 1,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -1,
      logit_bias: { '50256': -100 },
      provider_extras: {
        top_k: 40,
        safety_settings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
        task_type: 'RETRIEVAL_QUERY',
        title: 'T',
        context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
      },
      service_tier: 'flex',
      tools: [{ type: 'function', function: { name: 'f' }, strict: true }],
      parallel_tool_calls: false,
      output_config: { task_budget: { type: 'tokens', total: 50000 } },
    };
    assert.deepEqual(askedSettings(body), [...REQUEST_SETTINGS]);
  });

  it('takes a value that changes nothing, and any name of its own, as asking nothing', () => {
    // Parallel calls are the default; with no tools there are no calls to keep serial.
    assert.deepEqual(
      askedSettings({ tools: [{ type: 'function' }], parallel_tool_calls: true }),
      [],
    );
    assert.deepEqual(askedSettings({ parallel_tool_calls: false }), []);
    const body = {
      temperature: null,
      presence_penalty: 0,
      logit_bias: {},
      provider_extras: { top_k: null, safety_settings: [], 'x-client-chosen': 1 },
      'x-client-chosen': 1,
    };
    assert.deepEqual(askedSettings(body), []);
  });
});

describe('settings left out of one call', () => {
  it('notes each setting once, with its first reason', () => {
    const leftOut = new SettingsLeftOut();
    leftOut.leaveOut('temperature', 'model');
    leftOut.leaveOut('temperature', 'thinking');
    leftOut.leaveOut('top_k', 'thinking');
    assert.deepEqual(leftOut.list, [
      { setting: 'temperature', reason: 'model' },
      { setting: 'top_k', reason: 'thinking' },
    ]);
  });

  it("adds to what an answer's servedBy reports, and leaves an answer with nothing to add as it is", () => {
    const reported = withDroppedSettings(json, [{ setting: 'top_p', reason: 'model' }]);
    assert.deepEqual(reported.servedBy.droppedSettings, [{ setting: 'top_p', reason: 'model' }]);
    const more = withDroppedSettings(reported, [
      { setting: 'top_p', reason: 'unsupported' },
      { setting: 'seed', reason: 'unsupported' },
    ]);
    assert.deepEqual(more.servedBy.droppedSettings, [
      { setting: 'top_p', reason: 'model' },
      { setting: 'seed', reason: 'unsupported' },
    ]);
    assert.equal(withDroppedSettings(json, []), json);
  });
});

describe('an adapter reporting the settings its wire format has no place for', () => {
  it('reports each one asked for and not taken as unsupported, on JSON and streamed answers', async () => {
    const body = { temperature: 0.2, seed: 1, provider_extras: { top_k: 40 } };
    const plain = await reportingUnsupported(answering(json), () => OPENAI_SETTINGS).invoke(
      callFor(body),
    );
    assert.deepEqual(plain.servedBy.droppedSettings, [{ setting: 'top_k', reason: 'unsupported' }]);
    const stream: StreamAnswer = {
      kind: 'stream',
      status: 200,
      events: (async function* () {})(),
      usage: Promise.resolve(usage),
      servedBy,
    };
    const streamed = await reportingUnsupported(answering(stream), () => new Set()).invoke(
      callFor(body),
    );
    assert.equal(streamed.kind, 'stream');
    assert.deepEqual(streamed.servedBy.droppedSettings, [
      { setting: 'temperature', reason: 'unsupported' },
      { setting: 'top_k', reason: 'unsupported' },
      { setting: 'seed', reason: 'unsupported' },
    ]);
  });

  it('reports parallel_tool_calls: false left out where the provider cannot keep calls serial', () => {
    const serial = {
      tools: [{ type: 'function', function: { name: 'f' } }],
      parallel_tool_calls: false,
    };
    const chat = callFor(serial);
    const leftOut = (settings: ReadonlySet<string>) =>
      unsupportedSettings(serial, settings as ReadonlySet<never>).map(({ setting }) => setting);
    assert.deepEqual(leftOut(geminiSettings(chat)), ['parallel_tool_calls']);
    assert.deepEqual(leftOut(COHERE_CHAT_SETTINGS), ['parallel_tool_calls']);
    assert.deepEqual(leftOut(converseSettings('us.anthropic.claude-opus-4-7')), [
      'parallel_tool_calls',
    ]);
    assert.deepEqual(leftOut(ANTHROPIC_SETTINGS), []);
    assert.deepEqual(leftOut(OPENAI_SETTINGS), []);
  });

  it("hands back the adapter's own promise when nothing asked for is left out", () => {
    const inner = answering(json);
    const call = callFor({ temperature: 0.2, provider_extras: {} });
    const promise = inner.invoke(call);
    const same: ProviderAdapter = { ...inner, invoke: () => promise };
    assert.equal(reportingUnsupported(same, () => OPENAI_SETTINGS).invoke(call), promise);
    assert.equal(unsupportedSettings(call.request.body, OPENAI_SETTINGS).length, 0);
    assert.deepEqual(unsupportedSettings({ seed: 3, top_k: 2 }, NO_SETTINGS), [
      { setting: 'seed', reason: 'unsupported' },
    ]);
  });

  it("reports Claude's context editing, task budget and strict tools left out on Bedrock and Vertex AI", () => {
    const body = {
      provider_extras: { context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] } },
      output_config: { task_budget: { type: 'tokens', total: 50000 } },
      tools: [{ type: 'function', function: { name: 'f' }, strict: true }],
    };
    const claudeOnly = ['context_management', 'task_budget', 'strict'];
    const leftOut = (taken: ReadonlySet<RequestSetting>) =>
      unsupportedSettings(body, taken).map(({ setting }) => setting);
    assert.deepEqual(
      leftOut(converseSettings('us.anthropic.claude-sonnet-4-5-20250929-v1:0')),
      claudeOnly,
    );
    assert.deepEqual(
      leftOut(vertexSettings(callFor({}, 'claude-sonnet-4-5@20250929'))),
      claudeOnly,
    );
    assert.deepEqual(leftOut(ANTHROPIC_SETTINGS), []);
    // A tool without strict, or strict: false, asks for nothing.
    const loose = { tools: [{ type: 'function', function: { name: 'f' }, strict: false }] };
    assert.deepEqual(unsupportedSettings(loose, NO_SETTINGS), []);
  });

  it('knows what each provider request takes, by model and operation where that matters', () => {
    const chat = callFor({});
    const embeddings: ProviderCall = {
      ...chat,
      request: { ...chat.request, operation: 'embeddings' },
    };
    const on = (call: ProviderCall, model: string) => ({
      ...call,
      target: { ...call.target, model },
    });
    const names = (settings: ReadonlySet<string>) => [...settings].sort();
    assert.deepEqual(names(MESSAGES_API_SETTINGS), ['temperature', 'top_k', 'top_p']);
    // Converse's serviceTier is every model's; Anthropic's own API has service_tier too.
    assert.deepEqual(names(converseSettings('us.anthropic.claude-opus-4-7')), [
      'service_tier',
      'temperature',
      'top_k',
      'top_p',
    ]);
    assert.deepEqual(names(converseSettings('amazon.nova-pro-v1:0')), [
      'service_tier',
      'temperature',
      'top_p',
    ]);
    assert.ok(ANTHROPIC_SETTINGS.has('service_tier') && !MESSAGES_API_SETTINGS.has('service_tier'));
    // parallel_tool_calls: false is Claude's disable_parallel_tool_use on the Messages API
    // (Anthropic, Vertex AI); Converse, Gemini and Cohere have no such switch.
    assert.deepEqual(names(vertexSettings(on(chat, 'claude-sonnet-4-5@20250929'))), [
      'parallel_tool_calls',
      'temperature',
      'top_k',
      'top_p',
    ]);
    assert.ok(
      ANTHROPIC_SETTINGS.has('parallel_tool_calls') && OPENAI_SETTINGS.has('parallel_tool_calls'),
    );
    assert.ok(!converseSettings('us.anthropic.claude-opus-4-7').has('parallel_tool_calls'));
    assert.deepEqual(names(vertexSettings(on(chat, 'gemini-2.5-flash'))), [
      'frequency_penalty',
      'presence_penalty',
      'safety_settings',
      'seed',
      'temperature',
      'top_k',
      'top_p',
    ]);
    assert.deepEqual(names(geminiSettings(embeddings)), ['task_type', 'title']);
    assert.deepEqual(names(COHERE_CHAT_SETTINGS), [
      'frequency_penalty',
      'presence_penalty',
      'seed',
      'temperature',
      'top_k',
      'top_p',
    ]);
    assert.ok(!OPENAI_SETTINGS.has('top_k') && OPENAI_SETTINGS.has('logit_bias'));
    assert.ok(OPENAI_SETTINGS.has('service_tier') && !COHERE_CHAT_SETTINGS.has('service_tier'));
  });
});
