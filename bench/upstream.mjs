// A fake OpenAI upstream that answers /v1/chat/completions at once from prebuilt
// buffers, so the load generator measures the gateway in front of it, not this server.
// Usage: node bench/upstream.mjs [--port N]   (prints {"port": N} once listening)
import { createServer } from 'node:http';

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1700000000,
    model: 'bench-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello from the bench upstream.' },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
  }),
);

function sseChunk(delta, finishReason, usage) {
  const chunk = {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'bench-model',
    choices: delta === undefined ? [] : [{ index: 0, delta, finish_reason: finishReason }],
  };
  if (usage !== undefined) chunk.usage = usage;
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

const STREAM_BODY = [
  sseChunk({ role: 'assistant', content: '' }, null),
  sseChunk({ content: 'Hello from ' }, null),
  sseChunk({ content: 'the bench upstream.' }, null),
  sseChunk({}, 'stop'),
].join('');
const STREAM = Buffer.from(`${STREAM_BODY}data: [DONE]\n\n`);
const STREAM_WITH_USAGE = Buffer.from(
  `${STREAM_BODY}${sseChunk(undefined, null, { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 })}data: [DONE]\n\n`,
);
const NOT_FOUND = Buffer.from('{"error":{"message":"not found","type":"invalid_request_error"}}');

// A substring test instead of JSON.parse keeps this process's CPU (shared with the load
// generator) off the measured path; the bench bodies are compact JSON.
const STREAM_FLAG = /"stream"\s*:\s*true/;
const USAGE_FLAG = /"include_usage"\s*:\s*true/;

export function createUpstream() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404, {
          'content-type': 'application/json',
          'content-length': NOT_FOUND.length,
        });
        res.end(NOT_FOUND);
        return;
      }
      const body = chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString();
      if (STREAM_FLAG.test(body)) {
        const payload = USAGE_FLAG.test(body) ? STREAM_WITH_USAGE : STREAM;
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          'content-length': payload.length,
        });
        res.end(payload);
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': COMPLETION.length,
      });
      res.end(COMPLETION);
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const portFlag = process.argv.indexOf('--port');
  const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : 0;
  const server = createUpstream();
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
