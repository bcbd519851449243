// The Vercel AI SDK's calls every provider of it is checked with against the gateway: each
// model the factory makes is served by an OpenAI-format and by an Anthropic backend.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '@aigw/testing';
import {
  APICallError,
  generateObject,
  generateText,
  stepCountIs,
  streamObject,
  streamText,
  tool,
  type LanguageModel,
} from 'ai';
import { z } from 'zod';
import {
  BACKEND_MODELS,
  BACKEND_OF,
  MINUTE_MODEL,
  SPENT_MODEL,
  freshUser,
  type FrameworkGateway,
  type UsageRow,
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

const weather = tool({
  description: 'The weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

/** Makes the provider's model `model`, calling the gateway at `baseUrl` as `user`. */
export type ModelFactory = (baseUrl: string, model: string, user: string) => LanguageModel;

/** How the API a provider speaks differs in what the gateway answers. */
export interface AiSdkCasesOptions {
  /** The error's status for an unknown model (the API's own). */
  readonly unknownModelStatus: number;
}

export function describeAiSdkCases(
  title: string,
  gateway: Promise<FrameworkGateway>,
  modelFor: ModelFactory,
  options: AiSdkCasesOptions = { unknownModelStatus: 404 },
): void {
  describe(title, () => {
    let fw: FrameworkGateway;
    before(async () => {
      fw = await gateway;
    });
    const make = (model: string, user: string) => modelFor(fw.baseUrl, model, user);

    for (const model of BACKEND_MODELS) {
      describe(`served by ${model}`, () => {
        it('generateText: the answer, the usage the gateway recorded, its headers', async () => {
          const user = freshUser('gen');
          const result = await generateText({
            model: make(model, user),
            prompt: 'Say hello',
            maxRetries: 0,
          });
          assert.equal(result.text, PLAIN_ANSWER);
          assert.equal(result.finishReason, 'stop');
          assert.equal(result.usage.inputTokens, FRAMEWORK_USAGE.input);
          assert.equal(result.usage.outputTokens, FRAMEWORK_USAGE.output);
          const headers = result.response.headers ?? {};
          assert.ok(headers['x-request-id'], JSON.stringify(headers));
          assert.equal(headers['x-ai-gateway-backend'], BACKEND_OF[model]);
          const [row] = await fw.usageOf(user);
          assert.equal(row?.request_id, headers['x-request-id']);
          assert.equal(row?.model_requested, model);
          assert.equal(row?.input_tokens, result.usage.inputTokens);
          assert.equal(row?.output_tokens, result.usage.outputTokens);
        });

        it('streamText: the streamed answer and its usage, as recorded', async () => {
          const user = freshUser('stream');
          const result = streamText({
            model: make(model, user),
            prompt: 'Say hello',
            maxRetries: 0,
          });
          let text = '';
          for await (const piece of result.textStream) text += piece;
          assert.equal(text, PLAIN_ANSWER);
          assert.equal(await result.finishReason, 'stop');
          const usage = await result.usage;
          assert.equal(usage.inputTokens, FRAMEWORK_USAGE.input);
          assert.equal(usage.outputTokens, FRAMEWORK_USAGE.output);
          const [row] = await fw.usageOf(user);
          assert.equal(row?.input_tokens, usage.inputTokens);
          assert.equal(row?.output_tokens, usage.outputTokens);
        });

        it('cache reads: the input and its cached part, as recorded', async () => {
          const user = freshUser('cached');
          const result = streamText({
            model: make(model, user),
            prompt: `Say hello ${CACHED}`,
            maxRetries: 0,
          });
          await result.consumeStream();
          const usage = await result.usage;
          assert.equal(usage.inputTokenDetails.cacheReadTokens, CACHE.read);
          const [row] = await fw.usageOf(user);
          assert.equal(row?.input_tokens, usage.inputTokens);
          assert.equal(row?.cached_input_tokens, usage.inputTokenDetails.cacheReadTokens);
          assert.equal(row?.output_tokens, usage.outputTokens);
        });

        for (const streamed of [false, true]) {
          it(`${streamed ? 'streamText' : 'generateText'}: a zod tool called and its result sent back`, async () => {
            const user = freshUser('tool');
            const options = {
              model: make(model, user),
              prompt: 'What is the weather in Paris?',
              tools: { get_weather: weather },
              stopWhen: stepCountIs(3),
              maxRetries: 0,
            };
            const result = streamed ? streamText(options) : await generateText(options);
            const steps = await result.steps;
            assert.equal(steps.length, 2);
            assert.equal(steps[0]?.finishReason, 'tool-calls');
            const [call] = steps[0]?.toolCalls ?? [];
            assert.equal(call?.toolName, 'get_weather');
            assert.deepEqual(call?.input, { city: 'Paris' });
            assert.match(await result.text, /^The tool said: .*sunny in Paris/);
            const usage = await result.totalUsage;
            assert.equal(usage.inputTokens, 2 * FRAMEWORK_USAGE.input);
            assert.equal(usage.outputTokens, 2 * FRAMEWORK_USAGE.output);
            const rows = await fw.usageOf(user, 2);
            assert.equal(rows.length, 2);
            assert.equal(sum(rows, 'input_tokens'), usage.inputTokens);
            assert.equal(sum(rows, 'output_tokens'), usage.outputTokens);
          });
        }

        it('generateObject: the object a zod schema asks for', async () => {
          const user = freshUser('object');
          const result = await generateObject({
            model: make(model, user),
            schema: z.object({ name: z.string(), age: z.number() }),
            prompt: 'Invent a person',
            maxRetries: 0,
          });
          assert.deepEqual(result.object, PERSON);
          assert.equal(result.usage.inputTokens, FRAMEWORK_USAGE.input);
          const [row] = await fw.usageOf(user);
          assert.equal(row?.output_tokens, result.usage.outputTokens);
        });

        it('streamObject: the object streamed for a zod schema', async () => {
          const user = freshUser('stream-object');
          const result = streamObject({
            model: make(model, user),
            schema: z.object({ name: z.string(), age: z.number() }),
            prompt: 'Invent a person',
            maxRetries: 0,
          });
          let partials = 0;
          for await (const partial of result.partialObjectStream) if (partial) partials++;
          assert.ok(partials > 0);
          assert.deepEqual(await result.object, PERSON);
          const usage = await result.usage;
          const [row] = await fw.usageOf(user);
          assert.equal(row?.input_tokens, usage.inputTokens);
          assert.equal(row?.output_tokens, usage.outputTokens);
        });

        it('streamText aborted mid-stream: the backend call is cancelled, the prompt billed', async () => {
          const user = freshUser('abort');
          const controller = new AbortController();
          const hungUpBefore = fw.upstream.hungUp;
          const result = streamText({
            model: make(model, user),
            prompt: `Say hello ${STALL}`,
            maxRetries: 0,
            abortSignal: controller.signal,
          });
          const seen: string[] = [];
          // Aborted, the AI SDK ends its text stream (no error) after what it had.
          for await (const piece of result.textStream) {
            seen.push(piece);
            controller.abort();
          }
          assert.deepEqual(seen, ['Hello']);
          await until('the backend call to end', () => fw.upstream.hungUp > hungUpBefore);
          const [row] = await fw.usageOf(user);
          assert.ok((row?.input_tokens ?? 0) > 0, JSON.stringify(row));
        });
        it('streamText whose backend drops mid-answer: an error, not a short answer', async () => {
          let failure: unknown;
          const result = streamText({
            model: make(model, freshUser('broken')),
            prompt: `Say hello ${BREAK}`,
            maxRetries: 0,
            onError: ({ error }) => {
              failure = error;
            },
          });
          let text = '';
          for await (const piece of result.textStream) text += piece;
          assert.equal(text, 'Hello');
          assert.ok(failure !== undefined, `finished as ${await result.finishReason}`);
        });
      });
    }

    describe("the gateway's errors", () => {
      it("an unknown model is an APICallError with the gateway's message", async () => {
        const error = await failureOf(make('no-such-model', freshUser('unknown')));
        assert.equal(error.statusCode, options.unknownModelStatus);
        assert.match(error.message, /no-such-model/);
        assert.equal(error.isRetryable, false);
      });

      it('a spent budget is a 429 saying so, with x-should-retry: false', async () => {
        const error = await failureOf(make(SPENT_MODEL, freshUser('spent')));
        assert.equal(error.statusCode, 429);
        assert.match(error.message, /budget/i);
        // The AI SDK retries every 429 (maxRetries, on its own backoff past a minute's
        // Retry-After) whatever x-should-retry says; the header is there for those that read it.
        assert.equal(error.responseHeaders?.['x-should-retry'], 'false');
      });

      it('a per-minute limit is a retryable 429 with its Retry-After', async () => {
        const error = await failureOf(make(MINUTE_MODEL, freshUser('minute')));
        assert.equal(error.statusCode, 429);
        assert.match(error.message, /perMinute/);
        const retryAfter = Number(error.responseHeaders?.['retry-after']);
        assert.ok(retryAfter > 0 && retryAfter <= 60, String(retryAfter));
        assert.equal(error.isRetryable, true);
      });

      it('a refusal of a stream is the same typed error', async () => {
        let failure: unknown;
        const result = streamText({
          model: make(SPENT_MODEL, freshUser('spent-stream')),
          prompt: 'hi',
          maxRetries: 0,
          onError: ({ error }) => {
            failure = error;
          },
        });
        await result.consumeStream();
        assert.ok(APICallError.isInstance(failure), String(failure));
        assert.equal(failure.statusCode, 429);
        assert.match(failure.message, /budget/i);
      });
    });
  });
}

async function failureOf(model: LanguageModel): Promise<APICallError> {
  const error = await generateText({ model, prompt: 'hi', maxRetries: 0 }).then(
    () => assert.fail('the call was answered'),
    (e: unknown) => e,
  );
  assert.ok(APICallError.isInstance(error), String(error));
  return error;
}

function sum(rows: readonly UsageRow[], field: 'input_tokens' | 'output_tokens'): number {
  return rows.reduce((total, row) => total + row[field], 0);
}
