// How much does class-validator cost per chat request at ingress? Prints validations/s
// for a ~1k-token request beside JSON.parse of the same body, for scale.
// Run: node_modules/node/bin/node --require @swc-node/register libs/contracts/bench/chat-validation.bench.ts
import { validateChatCompletionRequest } from '../src';

const sentence = 'The quick brown fox jumps over the lazy dog near the river bank today. ';
const text = (words: number) => sentence.repeat(Math.ceil(words / 14)).slice(0, words * 5);

// ~1k tokens: about 4k characters of message text over six turns, plus one tool.
const body = {
  model: 'gpt-4',
  messages: [
    { role: 'system', content: text(150) },
    { role: 'user', content: text(200) },
    { role: 'assistant', content: text(150) },
    { role: 'user', content: [{ type: 'text', text: text(150) }] },
    { role: 'assistant', content: text(100) },
    { role: 'user', content: text(100) },
  ],
  temperature: 0.7,
  max_tokens: 512,
  stream: true,
  stream_options: { include_usage: true },
  tools: [
    {
      type: 'function',
      function: {
        name: 'search',
        description: 'Search the docs',
        parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
      },
    },
  ],
  user: 'alice',
};
const raw = JSON.stringify(body);

function rate(label: string, fn: () => void, ms = 2000): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = n / seconds;
  console.log(
    `${label}: ${Math.round(perSecond)} /s (${((1e6 * seconds) / n).toFixed(1)} µs each)`,
  );
  return perSecond;
}

console.log(`body: ${raw.length} bytes, ~${Math.round(raw.length / 4)} tokens`);
const parsed: unknown = JSON.parse(raw);
if (!validateChatCompletionRequest(parsed).ok) throw new Error('bench body must be valid');
rate('JSON.parse', () => {
  JSON.parse(raw);
});
rate('validateChatCompletionRequest', () => validateChatCompletionRequest(parsed));
rate('JSON.parse + validate', () => validateChatCompletionRequest(JSON.parse(raw)));
