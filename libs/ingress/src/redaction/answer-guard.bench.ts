// Cost of answer checks per streamed chunk and per JSON answer, in-process, on this machine.
// Run: node_modules/.bin/node --require @swc-node/register libs/ingress/src/redaction/answer-guard.bench.ts
import type { JsonAnswer, JsonObject, StreamAnswer } from '@aigw/contracts/data-plane';
import { AnswerGuard, type AnswerReport } from './answer-guard';

const guard = new AnswerGuard({
  blockPatterns: ['BEGIN PRIVATE KEY'],
  redact: {
    detectors: ['email', 'phone', 'creditCard', 'iban', 'usSsn', 'apiKey'].map((name) => ({
      name: name as 'email',
      mode: 'redact' as const,
    })),
    patterns: [],
  },
  streamHoldChars: 256,
});
const report: AnswerReport = { redacted: () => undefined, blocked: () => undefined };
const usage = {
  inputTokens: 1,
  outputTokens: 1,
  cachedInputTokens: 0,
  source: 'reported' as const,
};
const servedBy = { backend: 'b', provider: 'p', model: 'm' };
const WORD = 'Sure, call 415-555-2671 or mail jane@example.com about order 12345; ';

async function streamOf(chunks: number): Promise<number> {
  async function* events(): AsyncGenerator<JsonObject> {
    for (let i = 0; i < chunks; i++) {
      yield {
        choices: [
          { index: 0, delta: { content: WORD.slice(i % 60, (i % 60) + 5) }, finish_reason: null },
        ],
      };
    }
    yield { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
  }
  const answer: StreamAnswer = {
    kind: 'stream',
    status: 200,
    events: events(),
    usage: Promise.resolve(usage),
    servedBy,
  };
  const checked = guard.check(answer, 'chat', report) as StreamAnswer;
  const start = performance.now();
  for await (const _ of checked.events) void _;
  return (performance.now() - start) / chunks;
}

async function main(): Promise<void> {
  await streamOf(2000); // warm up
  const perChunk = await streamOf(20_000);
  console.log(`stream: ${(perChunk * 1000).toFixed(1)} us per 5-character chunk (hold 256)`);
  const json: JsonAnswer = {
    kind: 'json',
    status: 200,
    body: {
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: WORD.repeat(60) },
          finish_reason: 'stop',
        },
      ],
    },
    usage,
    servedBy,
  };
  for (let i = 0; i < 200; i++) guard.check(json, 'chat', report);
  const start = performance.now();
  for (let i = 0; i < 2000; i++) guard.check(json, 'chat', report);
  console.log(
    `json: ${(((performance.now() - start) / 2000) * 1000).toFixed(0)} us per 4 KiB answer`,
  );
}

void main();
