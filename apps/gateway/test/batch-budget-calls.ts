// What the batch budget specs do through the gateway: create a batch of chat lines, tell
// a budget refusal, read what the daily dollar limit leaves each budget key.
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';

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
