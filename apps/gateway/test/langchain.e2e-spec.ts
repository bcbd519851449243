// LangChain.js's ChatOpenAI and ChatAnthropic pointed at the gateway, each in front of an
// OpenAI-format and an Anthropic backend, so both translations are exercised.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '@aigw/testing';
import { ChatAnthropic } from '@langchain/anthropic';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import {
  type AIMessage,
  type AIMessageChunk,
  HumanMessage,
  ToolMessage,
} from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import {
  BACKEND_MODELS,
  MINUTE_MODEL,
  SPENT_MODEL,
  freshUser,
  frameworkGatewayForThisFile,
  type FrameworkGateway,
} from './framework-gateway';
import {
  BREAK,
  CACHE,
  CACHED,
  FRAMEWORK_USAGE,
  PERSON,
  PLAIN_ANSWER,
  STALL,
} from './framework-upstream';

const started = frameworkGatewayForThisFile();

const weather = tool(async ({ city }) => `sunny in ${city}`, {
  name: 'get_weather',
  description: 'The weather in a city',
  schema: z.object({ city: z.string() }),
});

const person = z.object({ name: z.string(), age: z.number() });

/** A chat model of the integration's kind, calling the gateway as `user`. */
type ChatFactory = (baseUrl: string, model: string, user: string) => BaseChatModel;

const openAi: ChatFactory = (baseUrl, model, user) =>
  new ChatOpenAI({
    model,
    apiKey: 'unused',
    maxRetries: 0,
    configuration: { baseURL: `${baseUrl}/v1`, defaultHeaders: { 'x-user-id': user } },
  });

const anthropic: ChatFactory = (baseUrl, model, user) =>
  new ChatAnthropic({
    model,
    apiKey: 'unused',
    maxRetries: 0,
    anthropicApiUrl: baseUrl,
    clientOptions: { defaultHeaders: { 'x-user-id': user } },
  });

for (const [title, chat] of [
  ['LangChain ChatOpenAI', openAi],
  ['LangChain ChatAnthropic', anthropic],
] as const) {
  describe(title, () => {
    let fw: FrameworkGateway;
    before(async () => {
      fw = await started;
    });
    const make = (model: string, user: string) => chat(fw.baseUrl, model, user);

    for (const model of BACKEND_MODELS) {
      describe(`served by ${model}`, () => {
        it('invoke: the answer and the usage the gateway recorded', async () => {
          const user = freshUser('lc-invoke');
          const answer = await make(model, user).invoke('Say hello');
          assert.equal(answer.text, PLAIN_ANSWER);
          assert.equal(answer.usage_metadata?.input_tokens, FRAMEWORK_USAGE.input);
          assert.equal(answer.usage_metadata?.output_tokens, FRAMEWORK_USAGE.output);
          const [row] = await fw.usageOf(user);
          assert.equal(row?.model_requested, model);
          assert.equal(row?.input_tokens, answer.usage_metadata?.input_tokens);
          assert.equal(row?.output_tokens, answer.usage_metadata?.output_tokens);
        });

        it('invoke with cache reads: the input and its cached part, as recorded', async () => {
          const user = freshUser('lc-cached');
          const answer = await make(model, user).invoke(`Say hello ${CACHED}`);
          assert.equal(answer.usage_metadata?.input_token_details?.cache_read, CACHE.read);
          const [row] = await fw.usageOf(user);
          assert.equal(row?.input_tokens, answer.usage_metadata?.input_tokens);
          assert.equal(row?.cached_input_tokens, CACHE.read);
        });

        it('stream: the pieces, and the usage as recorded', async () => {
          const user = freshUser('lc-stream');
          let whole: AIMessageChunk | undefined;
          for await (const chunk of await make(model, user).stream('Say hello')) {
            whole = whole ? whole.concat(chunk) : chunk;
          }
          assert.equal(whole?.text, PLAIN_ANSWER);
          assert.equal(whole?.usage_metadata?.output_tokens, FRAMEWORK_USAGE.output);
          const [row] = await fw.usageOf(user);
          assert.equal(row?.output_tokens, whole?.usage_metadata?.output_tokens);
          // ChatAnthropic takes a stream's input tokens from message_start alone, where the
          // gateway says 0 (its count is known only at the end, in message_delta): only
          // ChatOpenAI's is checked.
          if (chat === openAi) {
            assert.equal(whole?.usage_metadata?.input_tokens, FRAMEWORK_USAGE.input);
            assert.equal(row?.input_tokens, whole?.usage_metadata?.input_tokens);
          }
        });

        for (const streamed of [false, true]) {
          it(`bindTools (${streamed ? 'stream' : 'invoke'}): a zod tool called and its result sent back`, async () => {
            const user = freshUser('lc-tool');
            const model_ = make(model, user);
            const withTools = model_.bindTools?.([weather]);
            assert.ok(withTools);
            const question = new HumanMessage('What is the weather in Paris?');
            let asked: AIMessage;
            if (streamed) {
              let whole: AIMessageChunk | undefined;
              for await (const chunk of await withTools.stream([question])) {
                whole = whole ? whole.concat(chunk) : chunk;
              }
              assert.ok(whole);
              asked = whole;
            } else {
              asked = await withTools.invoke([question]);
            }
            const [call] = asked.tool_calls ?? [];
            assert.equal(call?.name, 'get_weather');
            assert.deepEqual(call?.args, { city: 'Paris' });
            const result = (await weather.invoke(call as never)) as ToolMessage;
            assert.ok(result instanceof ToolMessage);
            const final = await withTools.invoke([question, asked, result]);
            assert.match(final.text, /^The tool said: .*sunny in Paris/);
            const rows = await fw.usageOf(user, 2);
            assert.equal(rows.length, 2);
            assert.equal(rows[1]?.input_tokens, final.usage_metadata?.input_tokens);
          });
        }

        it('withStructuredOutput: the object a zod schema asks for', async () => {
          const user = freshUser('lc-object');
          const object = await make(model, user)
            .withStructuredOutput(person)
            .invoke('Invent a person');
          assert.deepEqual(object, PERSON);
          await fw.usageOf(user);
        });

        it('stream aborted midway: the backend call is cancelled, the prompt billed', async () => {
          const user = freshUser('lc-abort');
          const controller = new AbortController();
          const hungUpBefore = fw.upstream.hungUp;
          const seen: string[] = [];
          await assert.rejects(async () => {
            const stream = await make(model, user).stream(`Say hello ${STALL}`, {
              signal: controller.signal,
            });
            for await (const chunk of stream) {
              if (chunk.text) seen.push(chunk.text);
              if (seen.length > 0) controller.abort();
            }
          }, /abort/i);
          assert.deepEqual(seen, ['Hello']);
          await until('the backend call to end', () => fw.upstream.hungUp > hungUpBefore);
          const [row] = await fw.usageOf(user);
          assert.ok((row?.input_tokens ?? 0) > 0, JSON.stringify(row));
        });

        it('stream whose backend drops mid-answer: an error, not a short answer', async () => {
          const seen: string[] = [];
          await assert.rejects(async () => {
            const stream = await make(model, freshUser('lc-broken')).stream(`Say hello ${BREAK}`);
            for await (const chunk of stream) if (chunk.text) seen.push(chunk.text);
          });
          assert.deepEqual(seen, ['Hello']);
        });
      });
    }

    describe("the gateway's errors", () => {
      it('an unknown model is a 404 naming the model', async () => {
        const error = await failureOf(make('no-such-model', freshUser('lc-unknown')));
        assert.equal(error.status, 404);
        assert.match(error.message, /no-such-model/);
      });

      it('a spent budget is a 429 saying so, with x-should-retry: false', async () => {
        const error = await failureOf(make(SPENT_MODEL, freshUser('lc-spent')));
        assert.equal(error.status, 429);
        assert.match(error.message, /budget/i);
        assert.equal(error.headers?.get('x-should-retry'), 'false');
      });

      it('a per-minute limit is a 429 with its Retry-After', async () => {
        const error = await failureOf(make(MINUTE_MODEL, freshUser('lc-minute')));
        assert.equal(error.status, 429);
        assert.match(error.message, /perMinute/);
        const retryAfter = Number(error.headers?.get('retry-after'));
        assert.ok(retryAfter > 0 && retryAfter <= 60, String(retryAfter));
      });
    });
  });
}

/** The SDK error (openai's or Anthropic's APIError) LangChain raised for a refused call. */
interface ApiError {
  readonly status?: number;
  readonly message: string;
  readonly headers?: Headers;
}

async function failureOf(model: BaseChatModel): Promise<ApiError> {
  const error = await model.invoke('hi').then(
    () => assert.fail('the call was answered'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof Error, String(error));
  return error;
}
