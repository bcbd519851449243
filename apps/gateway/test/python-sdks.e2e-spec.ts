// The official Python SDKs (openai, anthropic; most production callers use Python) through
// the all-in-one gateway, against OpenAI-format and Anthropic-format fake upstreams, so each
// SDK is served natively and translated. The pinned SDKs live in a cached venv that the
// suite builds on a machine without one (a failed install fails the suite). Each script in
// python-sdks/ makes a group of calls in one python process and prints a JSON line per check.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  FAKE_BATCH_MODEL,
  FakeAnthropicUpstream,
  FakeBatchBackend,
  FakeOpenAiToolUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import {
  ensurePythonSdkVenv,
  runPythonChecks,
  startGatewayWithConfig,
  type AppProcess,
  type PythonCheck,
} from '@aigw/testing/processes';

const SCRIPTS = join(__dirname, 'python-sdks');
const BLOCK_RULE = "security: {promptValidation: {blockPatterns: ['internal use only']}}";

interface Upstreams {
  plain: string;
  tools: string;
  json: string;
  claude: string;
  brokenOpenAi: string;
  brokenClaude: string;
  batch: string;
}

function config(urls: Upstreams): string {
  const openAiFormat = (name: string, url: string, model: string) =>
    `  - {name: ${name}, provider: vllm, baseUrl: "${url}", model: upstream-${name}, modelNameOverride: ${model}}`;
  const anthropicFormat = (name: string, model: string, url = urls.claude) =>
    `  - {name: ${name}, provider: anthropic, baseUrl: "${url}", model: claude-sonnet-4-5, modelNameOverride: ${model}, auth: {apiKeyRef: {name: anthropic-key}}}`;
  return `kind: AIGatewayRoute
metadata: {name: openai-format}
spec:
  backends:
${openAiFormat('plain', urls.plain, 'gpt-plain')}
${openAiFormat('tools', urls.tools, 'gpt-tools')}
${openAiFormat('json', urls.json, 'gpt-json')}
${openAiFormat('embed', urls.plain, 'text-embed')}
${openAiFormat('claude-plain', urls.plain, 'claude-plain')}
${openAiFormat('claude-tools', urls.tools, 'claude-tools')}
${openAiFormat('broken-openai', urls.brokenOpenAi, 'openai-broken')}
${openAiFormat('whisper', urls.plain, 'whisper-1')}
${openAiFormat('json-claude', urls.json, 'claude-json')}
  ${BLOCK_RULE}
---
kind: AIGatewayRoute
metadata: {name: anthropic-format}
spec:
  backends:
${anthropicFormat('native', 'claude-native')}
${anthropicFormat('for-openai', 'gpt-on-claude')}
${anthropicFormat('broken-claude', 'claude-broken', urls.brokenClaude)}
  ${BLOCK_RULE}
---
kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: batch, provider: openai, baseUrl: "${urls.batch}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: gpt-batch, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
---
kind: AIGatewayRoute
metadata: {name: spent}
spec:
  backends:
  - {name: local, provider: local, model: spent-model}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 0, period: 20d}
`;
}

type Json = Record<string, unknown>;

/** The answer of every OpenAI-format fake, and of the Claude fake. */
const OPENAI_TEXT = 'Hello from the fake upstream.';
const CLAUDE_TEXT = 'Hello from Claude.';

const OPENAI_SDK_FAMILIES = [
  { key: 'openai', label: 'OpenAI-format backend', model: 'gpt-plain', text: OPENAI_TEXT },
  {
    key: 'claude',
    label: 'Anthropic backend (translated)',
    model: 'gpt-on-claude',
    text: CLAUDE_TEXT,
  },
] as const;

const ANTHROPIC_SDK_FAMILIES = [
  { key: 'claude', label: 'Anthropic backend', model: 'claude-native', text: CLAUDE_TEXT },
  {
    key: 'openai',
    label: 'OpenAI-format backend (translated)',
    model: 'claude-plain',
    text: OPENAI_TEXT,
  },
] as const;

const ERROR_FIELDS = ['raised', 'status', 'code', 'x_should_retry', 'attempts'];

function pick(record: Json, keys: readonly string[]): Json {
  return Object.fromEntries(keys.map((key) => [key, record[key]]));
}

describe('official Python SDKs through the all-in-one gateway', () => {
  const plain = new FakeOpenAiUpstream('plain');
  const tools = new FakeOpenAiToolUpstream();
  /** Answers every chat call with the JSON the structured-output checks parse. */
  const json = new FakeOpenAiUpstream('json').answerWith(['{"city": ', '"Paris"}']);
  const claude = new FakeAnthropicUpstream();
  /** Both break every streamed answer off after its first pieces. */
  const brokenOpenAi = new FakeOpenAiUpstream('broken').always({
    kind: 'break-stream',
    afterChunks: 2,
  });
  const brokenClaude = new FakeAnthropicUpstream().always({ kind: 'break-stream', afterChunks: 4 });
  const batch = new FakeBatchBackend();
  const upstreams = [plain, tools, json, claude, brokenOpenAi, brokenClaude, batch];
  let gateway: AppProcess | undefined;
  let baseUrl: string;
  let python: string;

  /** Runs `script` against the gateway with `env`: its checks, by name. */
  const checksOf = (script: string, env: Record<string, string>) =>
    runPythonChecks(python, join(SCRIPTS, script), { GATEWAY_URL: baseUrl, ...env });

  let openAiOnOpenAi: Map<string, PythonCheck>;
  let openAiOnClaude: Map<string, PythonCheck>;
  let openAiEdges: Map<string, PythonCheck>;
  let anthropicOnClaude: Map<string, PythonCheck>;
  let anthropicOnOpenAi: Map<string, PythonCheck>;
  let streamFailures: Map<string, PythonCheck>;
  let uploads: Map<string, PythonCheck>;
  let agentLoops: Map<string, PythonCheck>;
  let moreCalls: Map<string, PythonCheck>;

  before(async () => {
    await Promise.all(upstreams.map((upstream) => upstream.start()));
    // Both at once; whichever fails, the gateway that did start is kept for after() to stop
    // (a venv that cannot be built must fail the suite, not leave a gateway running).
    const [started, built] = await Promise.allSettled([
      startGatewayWithConfig(
        config({
          plain: plain.baseUrl,
          tools: tools.baseUrl,
          json: json.baseUrl,
          claude: claude.baseUrl,
          brokenOpenAi: brokenOpenAi.baseUrl,
          brokenClaude: brokenClaude.baseUrl,
          batch: batch.baseUrl,
        }),
        {
          AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-upstream-secret',
          AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-upstream-secret',
        },
      ),
      ensurePythonSdkVenv(),
    ]);
    if (started.status === 'rejected') throw started.reason;
    gateway = started.value;
    baseUrl = gateway.baseUrl;
    if (built.status === 'rejected') throw built.reason;
    python = built.value;
    [
      openAiOnOpenAi,
      openAiOnClaude,
      openAiEdges,
      anthropicOnClaude,
      anthropicOnOpenAi,
      streamFailures,
      uploads,
      agentLoops,
      moreCalls,
    ] = await Promise.all([
      checksOf('openai_calls.py', {
        CHAT_MODEL: 'gpt-plain',
        TOOL_MODEL: 'gpt-tools',
        JSON_MODEL: 'gpt-json',
      }),
      checksOf('openai_calls.py', {
        CHAT_MODEL: 'gpt-on-claude',
        TOOL_MODEL: 'gpt-on-claude',
        JSON_MODEL: 'gpt-on-claude',
      }),
      checksOf('openai_edges.py', {
        EMBED_MODEL: 'text-embed',
        CHAT_MODEL: 'gpt-plain',
        SPENT_MODEL: 'spent-model',
      }),
      checksOf('anthropic_calls.py', {
        MODEL: 'claude-native',
        TOOL_MODEL: 'claude-native',
        SPENT_MODEL: 'spent-model',
      }),
      checksOf('anthropic_calls.py', {
        MODEL: 'claude-plain',
        TOOL_MODEL: 'claude-tools',
        SPENT_MODEL: 'spent-model',
      }),
      checksOf('stream_failures.py', {
        OPENAI_BROKEN: 'openai-broken',
        CLAUDE_BROKEN: 'claude-broken',
      }),
      checksOf('uploads.py', {
        BATCH_MODEL: 'gpt-batch',
        AUDIO_MODEL: 'whisper-1',
        CLAUDE_MODEL: 'claude-native',
        OPENAI_FORMAT_MODEL: 'claude-json',
      }),
      checksOf('agent_loops.py', {
        OPENAI_TOOL_MODEL: 'gpt-tools',
        OPENAI_JSON_MODEL: 'gpt-json',
        CLAUDE_OPENAI_MODEL: 'gpt-on-claude',
        CLAUDE_MODEL: 'claude-native',
        OPENAI_FORMAT_CLAUDE: 'claude-tools',
      }),
      checksOf('more_calls.py', {
        CLAUDE_MODEL: 'claude-native',
        OPENAI_FORMAT_CLAUDE: 'claude-plain',
        OPENAI_MODEL: 'gpt-plain',
      }),
    ]);
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all(upstreams.map((upstream) => upstream.stop()));
  });

  /** What the check `name` printed (an error it caught and described included). */
  const printed = (checks: Map<string, PythonCheck>, name: string): Json => {
    const result = checks.get(name);
    assert.ok(result, `the script printed no check ${name}`);
    assert.equal(result.traceback, undefined, `${name}: ${String(result.traceback)}`);
    return result;
  };
  /** What the check `name` printed, which must have ended without an exception. */
  const passed = (checks: Map<string, PythonCheck>, name: string): Json => {
    const result = printed(checks, name);
    assert.equal(result.raised, undefined, name);
    return result;
  };

  for (const family of OPENAI_SDK_FAMILIES) {
    describe(`openai SDK, ${family.label}`, () => {
      const checks = () => (family.key === 'openai' ? openAiOnOpenAi : openAiOnClaude);
      const check = (name: string) => passed(checks(), name);

      it('chat.completions.create: plain, and streamed with the usage chunk once', () => {
        const plainChat = check('chat_plain');
        assert.equal(plainChat.object, 'chat.completion');
        assert.equal(plainChat.model, family.model);
        assert.equal(plainChat.content, family.text);
        assert.equal(plainChat.finish_reason, 'stop');
        const usage = plainChat.usage as Json;
        assert.equal(
          usage.total_tokens,
          Number(usage.prompt_tokens) + Number(usage.completion_tokens),
        );
        const streamed = check('chat_stream_usage');
        assert.equal(streamed.text, family.text);
        assert.deepEqual(streamed.finishes, ['stop']);
        assert.deepEqual(streamed.usages, [usage], 'one usage chunk, as the plain answer counts');
        assert.equal(streamed.ids, 1, 'every chunk of one completion has its id');
      });

      it("chat.completions.stream helper assembles a tool call's streamed arguments", () => {
        const helper = check('tool_stream_helper');
        assert.ok(Number(helper.argument_deltas) >= 2, 'arguments arrive in pieces');
        assert.equal(helper.arguments_done, 1);
        assert.equal(helper.finish_reason, 'tool_calls');
        const [call, ...more] = helper.calls as Json[];
        assert.equal(more.length, 0);
        assert.equal(call?.name, 'get_weather');
        assert.equal((call?.arguments as Json).city, 'Paris');
        assert.deepEqual(call?.parsed, { city: 'Paris' });
      });

      it('chat.completions.parse and the stream helper parse into a pydantic model', () => {
        const parsed = check('parse_pydantic');
        assert.deepEqual(parsed.parsed, { city: 'Paris' });
        assert.equal(parsed.refusal, null);
        assert.equal(parsed.tool_calls, 0);
        assert.equal(parsed.finish_reason, 'stop');
        assert.deepEqual(passed(agentLoops, `chat_stream_parse_${family.key}`).parsed, {
          city: 'Paris',
        });
        const again = passed(agentLoops, `chat_parse_round_trip_${family.key}`);
        assert.equal(again.second_finish, 'stop', 'the parsed message sent back is taken');
      });

      it('responses.create plain and streamed, responses.stream and responses.parse', () => {
        const usage = check('chat_plain').usage as Json;
        const response = check('responses_plain');
        assert.equal(response.object, 'response');
        assert.equal(response.status, 'completed');
        assert.equal(response.model, family.model);
        assert.equal(response.output_text, family.text);
        assert.equal((response.usage as Json).total_tokens, usage.total_tokens);
        const streamed = check('responses_stream');
        assert.equal(streamed.first, 'response.created');
        assert.equal(streamed.last, 'response.completed');
        assert.equal(streamed.deltas, family.text);
        assert.equal(streamed.completed_text, family.text);
        assert.deepEqual(streamed.completed_usage, response.usage);
        assert.equal(check('responses_stream_helper').output_text, family.text);
        const parsed = passed(agentLoops, `responses_parse_${family.key}`);
        assert.deepEqual(parsed.parsed, { city: 'Paris' });
      });

      it("sends the SDK's own answer objects back: chat tool calls, Responses output items", () => {
        const chat = passed(agentLoops, `chat_tool_round_trip_${family.key}`);
        assert.equal(chat.first_finish, 'tool_calls');
        assert.equal(typeof chat.second_finish, 'string');
        const responses = passed(agentLoops, `responses_tool_round_trip_${family.key}`);
        assert.ok((responses.first_types as string[]).includes('function_call'));
        assert.equal((responses.calls as Json[])[0].city, 'Paris');
        assert.equal(responses.second_status, 'completed');
        const chained = passed(agentLoops, `responses_previous_id_${family.key}`);
        assert.equal(chained.second_status, 'completed');
        assert.match(String(chained.second_previous), /^resp_/);
        if (family.key === 'openai') {
          // The tool fake answers a tool result with text.
          assert.equal(chat.second_finish, 'stop');
          assert.deepEqual(responses.second_types, ['message']);
        }
      });

      it('responses retrieve, input_items, input_tokens.count, conversations, delete', () => {
        const lifecycle = check('responses_lifecycle');
        assert.equal(lifecycle.retrieved_text, family.text);
        assert.deepEqual(lifecycle.input_items, ['message']);
        assert.ok(Number(lifecycle.input_tokens) > 0);
        assert.equal(lifecycle.in_conversation, 'completed');
        assert.equal(lifecycle.after_delete, 404);
      });

      it("with_raw_response shows the gateway's x-request-id, the SDK's _request_id", () => {
        const raw = check('raw_response_headers');
        assert.equal(raw.status, 200);
        assert.match(String(raw.request_id), /^[0-9a-f-]{36}$/);
        assert.equal(raw.sdk_request_id, raw.request_id);
        assert.equal(raw.content, family.text);
      });
    });
  }

  describe('openai SDK: embeddings, models and errors', () => {
    const check = (name: string) => passed(openAiEdges, name);
    const failed = (name: string) => printed(openAiEdges, name);

    it('embeddings: the base64 the SDK asks for by default, and floats', () => {
      const byDefault = check('embeddings_default');
      assert.deepEqual(byDefault.indexes, [0, 1]);
      assert.deepEqual(byDefault.vectors, [
        [0.1, 0.2, 0.3],
        [0.1, 0.2, 0.3],
      ]);
      assert.deepEqual(byDefault.usage, { prompt_tokens: 4, total_tokens: 4 });
      assert.deepEqual(check('embeddings_float').vectors, [[0.1, 0.2, 0.3]]);
    });

    it('models.list pages every model; models.retrieve finds one', () => {
      const listed = check('models_list');
      for (const model of ['gpt-plain', 'gpt-on-claude', 'claude-native', 'text-embed']) {
        assert.ok((listed.ids as string[]).includes(model), model);
      }
      assert.deepEqual(listed.objects, ['model']);
      assert.deepEqual(check('model_retrieve'), {
        check: 'model_retrieve',
        id: 'gpt-plain',
        object: 'model',
      });
    });

    it('raises NotFoundError, BadRequestError and RateLimitError with the codes, once each', () => {
      assert.deepEqual(pick(failed('unknown_model'), ERROR_FIELDS), {
        raised: 'NotFoundError',
        status: 404,
        code: 'model_not_found',
        x_should_retry: null,
        attempts: 1,
      });
      assert.deepEqual(pick(failed('prompt_rule'), ERROR_FIELDS), {
        raised: 'BadRequestError',
        status: 400,
        code: 'prompt_blocked',
        x_should_retry: null,
        attempts: 1,
      });
      // A budget spent for days: the SDK's two default retries would only be refused again.
      const spent = failed('budget_spent');
      assert.deepEqual(pick(spent, ERROR_FIELDS), {
        raised: 'RateLimitError',
        status: 429,
        code: 'budget_exceeded',
        x_should_retry: 'false',
        attempts: 1,
      });
      assert.ok(Number(spent.retry_after) > 60, String(spent.retry_after));
      assert.match(String(spent.request_id), /^[0-9a-f-]{36}$/);
    });

    it('legacy completions.create', () => {
      assert.equal(passed(moreCalls, 'legacy_completion').text, OPENAI_TEXT);
    });
  });

  for (const family of ANTHROPIC_SDK_FAMILIES) {
    describe(`anthropic SDK, ${family.label}`, () => {
      const checks = () => (family.key === 'claude' ? anthropicOnClaude : anthropicOnOpenAi);
      const check = (name: string) => passed(checks(), name);
      const failed = (name: string) => printed(checks(), name);

      it('messages.create, and messages.stream with get_final_message', () => {
        const message = check('messages_plain');
        assert.equal(message.id_prefix, 'msg_');
        assert.equal(message.type, 'message');
        assert.equal(message.role, 'assistant');
        assert.equal(message.model, family.model);
        assert.deepEqual(message.content, [{ type: 'text', text: family.text }]);
        assert.equal(message.stop_reason, 'end_turn');
        const usage = message.usage as Json;
        assert.ok(Number(usage.input_tokens) > 0 && Number(usage.output_tokens) > 0);
        const streamed = check('messages_stream');
        assert.equal(streamed.text, family.text);
        assert.deepEqual(streamed.content, message.content);
        assert.equal(streamed.stop_reason, 'end_turn');
        assert.equal((streamed.usage as Json).output_tokens, usage.output_tokens);
        assert.equal((streamed.usage as Json).input_tokens, usage.input_tokens);
      });

      it('tool use, plain and streamed, and the blocks sent back as the next turn', () => {
        const plainUse = check('tool_use');
        assert.equal(plainUse.stop_reason, 'tool_use');
        const [use] = plainUse.uses as Json[];
        assert.equal(use?.name, 'get_weather');
        assert.equal((use?.input as Json).city, 'Paris');
        const streamed = check('tool_use_stream');
        assert.equal(streamed.stop_reason, 'tool_use');
        assert.ok(Number(streamed.json_deltas) >= 2, 'input arrives in pieces');
        assert.deepEqual((streamed.uses as Json[])[0]?.input, use?.input);
        const loop = passed(agentLoops, `anthropic_tool_round_trip_${family.key}`);
        assert.equal(loop.first_stop, 'tool_use');
        // The Claude fake calls the tool whenever tools are offered; the tool fake answers.
        assert.equal(loop.second_stop, family.key === 'claude' ? 'tool_use' : 'end_turn');
      });

      it('stream=True events as they come, and an image input', () => {
        assert.deepEqual(check('raw_event_stream'), {
          check: 'raw_event_stream',
          first: 'message_start',
          last: 'message_stop',
          stops: 1,
        });
        assert.equal(check('image_input').stop_reason, 'end_turn');
      });

      it('count_tokens, the beta resource, messages.parse and raw headers', () => {
        assert.ok(Number(check('count_tokens').input_tokens) > 0);
        const beta = passed(moreCalls, `beta_messages_${family.key}`);
        assert.equal(beta.text, family.text);
        assert.equal(beta.streamed, family.text);
        assert.ok(Number(beta.counted) > 0);
        const parsed = passed(uploads, `anthropic_parse_${family.key}`);
        assert.deepEqual(parsed.parsed, { city: 'Paris' });
        const raw = check('raw_response_headers');
        assert.match(String(raw.request_id), /^[0-9a-f-]{36}$/);
        assert.equal(raw.x_request_id, raw.request_id);
        assert.equal(raw.sdk_request_id, raw.request_id);
      });

      it('raises NotFoundError, BadRequestError and RateLimitError by error type, once each', () => {
        const fields = ['raised', 'status', 'error_type', 'x_should_retry', 'attempts'];
        assert.deepEqual(pick(failed('unknown_model'), fields), {
          raised: 'NotFoundError',
          status: 404,
          error_type: 'not_found_error',
          x_should_retry: null,
          attempts: 1,
        });
        assert.deepEqual(pick(failed('prompt_rule'), fields), {
          raised: 'BadRequestError',
          status: 400,
          error_type: 'invalid_request_error',
          x_should_retry: null,
          attempts: 1,
        });
        assert.deepEqual(pick(failed('budget_spent'), fields), {
          raised: 'RateLimitError',
          status: 429,
          error_type: 'rate_limit_error',
          x_should_retry: 'false',
          attempts: 1,
        });
      });
    });
  }

  it('anthropic SDK: a thinking stream with tool use, its signed blocks sent back', () => {
    const thinking = passed(agentLoops, 'anthropic_thinking_stream_claude');
    assert.deepEqual(thinking.blocks, ['thinking', 'text', 'tool_use']);
    assert.equal(thinking.signature, true);
    assert.equal(thinking.second_stop, 'tool_use');
  });

  it('anthropic SDK: models.list and models.retrieve in its own shape', () => {
    const models = passed(moreCalls, 'anthropic_models');
    assert.ok((models.ids as string[]).includes('claude-native'));
    assert.deepEqual(models.types, ['model']);
    assert.equal(models.has_more, false);
    const retrieved = models.retrieved as Json;
    assert.equal(retrieved.id, 'claude-native');
    assert.equal(retrieved.type, 'model');
    assert.equal(retrieved.display_name, 'claude-native');
  });

  it('a stream the backend breaks off is an error in each SDK, never a quiet end', () => {
    for (const key of ['openai', 'claude']) {
      const chat = printed(streamFailures, `chat_stream_${key}`);
      assert.equal(chat.raised, 'APIError', key);
      const pieces = chat.seen as Json[];
      assert.ok(pieces.length > 0, `${key}: the first pieces arrive`);
      assert.ok(
        pieces.every((piece) => (piece.finish as unknown[]).length === 0),
        key,
      );
      const responses = printed(streamFailures, `responses_stream_${key}`);
      const types = responses.seen as string[];
      assert.equal(types.at(-1), 'response.failed', key);
      assert.ok(types.includes('error') && !types.includes('response.completed'), key);
      const messages = printed(streamFailures, `messages_stream_${key}`);
      assert.equal(messages.raised, 'APIStatusError', key);
      assert.ok(!(messages.seen as string[]).includes('message_stop'), key);
    }
  });

  it('files: uploads from a path and a tuple, retrieve, content, list, delete, a batch', () => {
    const fromPath = passed(uploads, 'file_from_path');
    assert.deepEqual(
      pick(fromPath.created as Json, ['id_prefix', 'object', 'filename', 'purpose']),
      { id_prefix: 'file-', object: 'file', filename: 'requests.jsonl', purpose: 'batch' },
    );
    assert.deepEqual(fromPath.retrieved, fromPath.created);
    assert.deepEqual(fromPath.content_lines, fromPath.sent_lines);
    assert.equal(fromPath.listed, true);
    assert.equal(fromPath.batch_input, true);
    assert.equal(fromPath.batch_endpoint, '/v1/chat/completions');
    const fromTuple = passed(uploads, 'file_from_tuple');
    assert.equal((fromTuple.created as Json).filename, 'tuple.jsonl');
    assert.equal(fromTuple.deleted, true);
  });

  it('audio.transcriptions.create as JSON, text and verbose_json', () => {
    const transcription = passed(uploads, 'transcription');
    assert.equal(transcription.text, OPENAI_TEXT);
    assert.equal(String(transcription.plain).trim(), OPENAI_TEXT);
    assert.equal(transcription.verbose_segments, 1);
  });
});
