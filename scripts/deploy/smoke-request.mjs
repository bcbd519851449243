// One chat completion through the ingress with the official `openai` client, as a user
// of the compose stack would send it; prints what the smoke test checks as one JSON line.
//   node scripts/deploy/smoke-request.mjs http://127.0.0.1:8080/v1 <user id>
import OpenAI from 'openai';

const [baseURL, user] = process.argv.slice(2);
if (!baseURL || !user) {
  console.error('usage: smoke-request.mjs <base url> <user id>');
  process.exit(2);
}
const client = new OpenAI({
  baseURL,
  apiKey: 'unused', // the quickstart identifies callers by the x-user-id header
  defaultHeaders: { 'x-user-id': user },
  maxRetries: 0,
  timeout: 30_000,
});

const { data: completion, response } = await client.chat.completions
  .create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `compose smoke test ${user}` }],
    max_tokens: 32,
  })
  .withResponse();
const text = completion.choices[0]?.message?.content ?? '';
if (!text) throw new Error(`empty answer: ${JSON.stringify(completion)}`);
if (!completion.usage || completion.usage.total_tokens <= 0) {
  throw new Error(`no token usage in the answer: ${JSON.stringify(completion)}`);
}

// The same through a stream, so the streamed path is crossed too.
let streamed = '';
const stream = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: `compose smoke test (stream) ${user}` }],
  max_tokens: 32,
  stream: true,
});
for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
if (!streamed) throw new Error('empty streamed answer');

console.log(
  JSON.stringify({
    id: completion.id,
    model: completion.model,
    usage: completion.usage,
    requestId: response.headers.get('x-request-id'),
    text: text.slice(0, 60),
    streamed: streamed.slice(0, 60),
  }),
);
