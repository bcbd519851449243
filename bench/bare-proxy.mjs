// The ceiling for any Node gateway here: node:http in, an undici keep-alive pool out,
// one JSON.parse + JSON.stringify of the request and of the (non-stream) response.
// Usage: node bench/bare-proxy.mjs --upstream http://127.0.0.1:PORT [--port N]
import { createServer } from 'node:http';
import { Pool } from 'undici';

function flag(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const upstream = flag('--upstream');
if (!upstream) {
  process.stderr.write('bare-proxy: --upstream http://host:port is required\n');
  process.exit(2);
}
const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 120_000 });

function fail(res, status, message) {
  const body = JSON.stringify({ error: { message, type: 'bare_proxy_error' } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function forward(req, res, raw) {
  let request;
  try {
    request = JSON.parse(raw);
  } catch {
    fail(res, 400, 'request body is not JSON');
    return;
  }
  const upstreamResponse = await pool.request({
    path: req.url,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: req.headers.authorization ?? 'Bearer sk-bench',
    },
    body: JSON.stringify(request),
  });
  if (request.stream === true) {
    res.writeHead(upstreamResponse.statusCode, {
      'content-type': upstreamResponse.headers['content-type'] ?? 'text/event-stream',
    });
    for await (const chunk of upstreamResponse.body) res.write(chunk);
    res.end();
    return;
  }
  const text = await upstreamResponse.body.text();
  const out = JSON.stringify(JSON.parse(text));
  res.writeHead(upstreamResponse.statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(out),
  });
  res.end(out);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const raw = chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString();
    forward(req, res, raw).catch((error) => {
      if (!res.headersSent) fail(res, 502, String(error?.message ?? error));
      else res.destroy();
    });
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(Number(flag('--port', '0')), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => pool.close().then(() => process.exit(0))));
