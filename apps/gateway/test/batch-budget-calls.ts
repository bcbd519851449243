// What the batch specs share: a route to the fake batch backend, a client per user; and
// what the batch budget specs do through the gateway: create a batch of chat lines, tell
// a budget refusal, read what the daily dollar limit leaves each budget key.
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { FAKE_BATCH_MODEL } from '@aigw/testing/fake-provider';

/** The model clients ask for; the batch route sends it to the fake's FAKE_BATCH_MODEL. */
export const BATCH_MODEL = 'gpt-batch';
/** FAKE_BATCH_MODEL's price in dollars per 1k tokens (batches pay half of it). */
export const BATCH_PRICE = { inputPer1k: 0.002, outputPer1k: 0.008 };

/**
 * The AIGatewayRoute `name` sending BATCH_MODEL to the fake batch backend at `backendUrl`,
 * users keyed by x-user-id, priced at BATCH_PRICE, and each user limited to `dailyLimit`
 * dollars a day when it is given.
 */
export function batchRoute(name: string, backendUrl: string, dailyLimit?: number): string {
  const limit = dailyLimit === undefined ? '' : `\n    maxDailyCostPerUser: ${dailyLimit}`;
  return `kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "${backendUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${BATCH_MODEL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
  costControl:${limit}
    modelPricing:
      ${FAKE_BATCH_MODEL}: {inputPer1k: ${BATCH_PRICE.inputPer1k}, outputPer1k: ${BATCH_PRICE.outputPer1k}}
`;
}

/** An SDK client for the gateway as `user`, named by the `userHeader` header, calling `model` by default. */
export function userClient(
  gatewayUrl: string,
  user: string,
  model: string,
  { apiKey = 'sk-client', userHeader = 'x-user-id' } = {},
): OpenAI {
  return new OpenAI({
    baseURL: `${gatewayUrl}/v1`,
    apiKey,
    maxRetries: 0,
    defaultHeaders: { [userHeader]: user, 'x-ai-gateway-model': model },
  });
}

/** A batch input file whose lines each ask `model` for up to `maxTokens` output tokens. */
export const chatBatchInput = (model: string, lines: number, maxTokens: number): string =>
  Array.from({ length: lines }, (_, at) =>
    JSON.stringify({
      custom_id: `r${at}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model, messages: [{ role: 'user', content: 'q' }], max_tokens: maxTokens },
    }),
  ).join('\n');

/** `client`'s batch of `lines` chat lines to `model`, its input uploaded first. */
export async function createChatBatch(
  client: OpenAI,
  model: string,
  lines: number,
  maxTokens: number,
): Promise<OpenAI.Batch> {
  const file = await client.files.create({
    file: await toFile(Buffer.from(chatBatchInput(model, lines, maxTokens)), 'input.jsonl'),
    purpose: 'batch',
  });
  return client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
}

/** Whether a chat call of up to `maxTokens` is refused (429) by budgets, not let through to the backend. */
export async function chatRefusedByBudget(
  client: OpenAI,
  model: string,
  maxTokens: number,
): Promise<boolean> {
  try {
    await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'q' }],
      max_tokens: maxTokens,
    });
    return false;
  } catch (error) {
    // The fake serves no chat: any other error means budgets let the call through.
    return error instanceof OpenAI.RateLimitError;
  }
}

/** For assert.rejects: the call was refused (429) as over budget. */
export function budgetExceeded(error: unknown): true {
  assert.ok(error instanceof OpenAI.RateLimitError, String(error));
  assert.equal((error.error as { code?: string }).code, 'budget_exceeded');
  return true;
}

/** The gateway's budgets report rows of the daily dollar limit: remaining, by budget key. */
export async function dailyDollarsRemaining(gatewayUrl: string): Promise<Map<string, number>> {
  const report = (await (await fetch(`${gatewayUrl}/v1/analytics/budgets`)).json()) as {
    rows: { budgetKey: string; limitKind: string; remaining: number }[];
  };
  return new Map(
    report.rows
      .filter((r) => r.limitKind === 'costControl.maxDailyCostPerUser')
      .map((r) => [r.budgetKey, r.remaining]),
  );
}
