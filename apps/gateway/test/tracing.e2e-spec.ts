import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import {
  runAppToExit,
  startApp,
  startGatewayOnOneBackend,
  type AppProcess,
} from '@aigw/testing/processes';

// The gateway traces a model call to an OTLP collector (here a receiver of OTLP/HTTP in
// JSON, the protocol it is told to use): a SERVER span in the client's trace, with the GenAI
// attributes, and under it a CLIENT span per upstream attempt, whose id the provider gets as
// its parent. Spans are batched; a graceful stop sends what is left, which is when these
// tests read them.

const CLIENT_TRACE_ID = '5b8efff798038103d269b633813fc60c';
const CLIENT_SPAN_ID = 'eee19b7ec3c1b174';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;
const PROMPT = 'a prompt that must never reach the tracing backend';

/** One OTLP/JSON attribute value (the `AnyValue` of the protocol). */
interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: AnyValue }[];
  status?: { code?: number; message?: string };
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

interface ReceivedSpan extends OtlpSpan {
  serviceName: string;
}

/** OTLP's SPAN_KIND_SERVER and SPAN_KIND_CLIENT. */
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
/** OTLP's STATUS_CODE_ERROR. */
const STATUS_ERROR = 2;

/** A stand-in OTLP/HTTP collector: keeps every span posted to /v1/traces. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.contentTypes.push(`${request.url} ${request.headers['content-type']}`);
      this.keep(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private keep(body: {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: AnyValue }[] };
      scopeSpans?: { spans?: OtlpSpan[] }[];
    }[];
  }): void {
    for (const { resource, scopeSpans } of body.resourceSpans ?? []) {
      const serviceName =
        resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const { spans } of scopeSpans ?? []) {
        for (const span of spans ?? []) this.spans.push({ ...span, serviceName });
      }
    }
  }
}

function attributes(span: OtlpSpan): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const { key, value } of span.attributes) {
    plain[key] =
      value.stringValue ??
      (value.intValue === undefined ? undefined : Number(value.intValue)) ??
      value.doubleValue ??
      value.boolValue;
  }
  return plain;
}

/** The span and parent ids of a `traceparent` header. */
function traceparentIds(header: unknown): { traceId: string; parentId: string } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(header));
  assert.ok(match, `not a traceparent: ${String(header)}`);
  return { traceId: match[1], parentId: match[2] };
}

async function chatWithTraceparent(baseUrl: string): Promise<void> {
  const client = new OpenAI({
    baseURL: `${baseUrl}/v1`,
    apiKey: 'unused',
    defaultHeaders: { traceparent: CLIENT_TRACEPARENT, 'x-user-id': 'tracing-user' },
  });
  const answer = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: PROMPT }],
    max_tokens: 64,
    temperature: 0.3,
  });
  assert.equal(answer.object, 'chat.completion');
}

/** The gateway's SERVER span for the call, and the checks every deployment shape shares. */
function assertGatewaySpan(receiver: OtlpReceiver, serviceName: string): OtlpSpan {
  const server = receiver.spans.filter((span) => span.kind === SPAN_KIND_SERVER);
  assert.equal(server.length, 1, JSON.stringify(receiver.spans.map((s) => s.name)));
  const [span] = server;
  assert.equal(span.name, 'chat gpt-4o-mini');
  assert.equal(span.serviceName, serviceName);
  assert.equal(span.traceId, CLIENT_TRACE_ID);
  assert.equal(span.parentSpanId, CLIENT_SPAN_ID);
  const seen = attributes(span);
  assert.equal(seen['gen_ai.operation.name'], 'chat');
  assert.equal(seen['gen_ai.request.model'], 'gpt-4o-mini');
  assert.equal(seen['gen_ai.response.model'], 'gpt-4o-mini');
  assert.equal(seen['gen_ai.provider.name'], 'openai-compatible');
  assert.equal(seen['gen_ai.request.max_tokens'], 64);
  assert.equal(seen['gen_ai.request.temperature'], 0.3);
  assert.ok(Number(seen['gen_ai.usage.input_tokens']) > 0, JSON.stringify(seen));
  assert.ok(Number(seen['gen_ai.usage.output_tokens']) > 0, JSON.stringify(seen));
  assert.equal(seen['http.request.method'], 'POST');
  assert.equal(seen['http.response.status_code'], 200);
  assert.equal(seen['ai_gateway.backend'], 'fake');
  assert.equal(seen['ai_gateway.user'], 'tracing-user');
  assert.equal(seen['ai_gateway.cached'], false);
  assert.ok(!JSON.stringify(receiver.spans).includes(PROMPT), 'the prompt reached the collector');
  return span;
}

/**
 * The CLIENT span of the one upstream attempt, a child of the edge span in the client's
 * trace, and the provider called as its child.
 */
function assertAttemptSpan(
  receiver: OtlpReceiver,
  upstream: FakeOpenAiUpstream,
  edge: OtlpSpan,
  serviceName: string,
): void {
  const client = receiver.spans.filter((span) => span.kind === SPAN_KIND_CLIENT);
  assert.equal(client.length, 1, JSON.stringify(receiver.spans.map((s) => s.name)));
  const [span] = client;
  assert.equal(span.name, 'chat gpt-4o-mini');
  assert.equal(span.serviceName, serviceName);
  assert.equal(span.traceId, CLIENT_TRACE_ID);
  assert.equal(span.parentSpanId, edge.spanId);
  assert.notEqual(span.status?.code, STATUS_ERROR);
  const seen = attributes(span);
  assert.equal(seen['gen_ai.operation.name'], 'chat');
  assert.equal(seen['gen_ai.provider.name'], 'openai-compatible');
  assert.equal(seen['gen_ai.request.model'], 'gpt-4o-mini');
  assert.equal(seen['gen_ai.response.model'], 'gpt-4o-mini');
  assert.equal(seen['server.address'], '127.0.0.1');
  assert.equal(seen['server.port'], Number(new URL(upstream.baseUrl).port));
  assert.equal(seen['ai_gateway.backend'], 'fake');
  assert.equal(seen['ai_gateway.attempt'], 1);
  assert.ok(Number(seen['gen_ai.usage.output_tokens']) > 0, JSON.stringify(seen));

  // The provider was called as the attempt span's child, in the client's trace.
  assert.equal(upstream.calls.length, 1);
  const sent = traceparentIds(upstream.calls[0].headers.traceparent);
  assert.equal(sent.traceId, CLIENT_TRACE_ID);
  assert.equal(sent.parentId, span.spanId);
}

describe('tracing a model call to an OTLP collector', () => {
  describe('the all-in-one gateway', () => {
    const upstream = new FakeOpenAiUpstream('traced');
    const receiver = new OtlpReceiver();
    let gateway: AppProcess | undefined;

    before(async () => {
      await upstream.start();
      const collector = await receiver.start();
      gateway = await startGatewayOnOneBackend(upstream.baseUrl, {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      });
    });

    after(async () => {
      await gateway?.stop();
      await Promise.all([upstream.stop(), receiver.stop()]);
    });

    it("exports a SERVER span in the client's trace, a CLIENT span under it, and the provider is its child", async () => {
      await chatWithTraceparent(gateway!.baseUrl);
      assert.match(gateway!.output(), /tracing on/);
      await gateway!.stop(); // a graceful stop flushes the batch
      assert.deepEqual([...new Set(receiver.contentTypes)], ['/v1/traces application/json']);
      const edge = assertGatewaySpan(receiver, 'ai-gateway-gateway');
      assertAttemptSpan(receiver, upstream, edge, 'ai-gateway-gateway');
    });
  });

  describe('the all-in-one gateway failing over', () => {
    const limited = new FakeOpenAiUpstream('limited');
    const upstream = new FakeOpenAiUpstream('answering');
    const receiver = new OtlpReceiver();
    let gateway: AppProcess | undefined;

    before(async () => {
      await Promise.all([limited.start(), upstream.start()]);
      limited.always({ kind: 'status', status: 429, body: { error: { message: PROMPT } } });
      const collector = await receiver.start();
      const dir = mkdtempSync(join(tmpdir(), 'aigw-tracing-failover-'));
      const config = join(dir, 'config.yaml');
      writeFileSync(
        config,
        `kind: AIGatewayRoute
metadata: {name: traced-failover}
spec:
  backends:
  - {name: limited, priority: 0, provider: openai-compatible, baseUrl: "${limited.baseUrl}", model: gpt-4o-mini}
  - {name: answering, priority: 1, provider: openai-compatible, baseUrl: "${upstream.baseUrl}", model: gpt-4o-mini}
  failover:
    on: [rateLimit, timeout, error]
`,
      );
      gateway = await startApp('gateway', {
        AI_GATEWAY_CONFIG: config,
        AI_GATEWAY_DATA_DIR: join(dir, 'data'),
        AI_GATEWAY_MISSING_SECRETS: 'warn',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      });
    });

    after(async () => {
      await gateway?.stop();
      await Promise.all([limited.stop(), upstream.stop(), receiver.stop()]);
    });

    it('exports a span per attempt: the refused one in error, then the stream that answered, ended with it', async () => {
      const client = new OpenAI({
        baseURL: `${gateway!.baseUrl}/v1`,
        apiKey: 'unused',
        defaultHeaders: { traceparent: CLIENT_TRACEPARENT },
      });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: PROMPT }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      assert.ok(text.length > 0);
      await gateway!.stop();

      const [edge] = receiver.spans.filter((span) => span.kind === SPAN_KIND_SERVER);
      assert.ok(edge, JSON.stringify(receiver.spans.map((s) => s.name)));
      assert.equal(attributes(edge)['ai_gateway.attempts'], 2);
      const attempts = receiver.spans
        .filter((span) => span.kind === SPAN_KIND_CLIENT)
        .sort(
          (a, b) =>
            Number(attributes(a)['ai_gateway.attempt']) -
            Number(attributes(b)['ai_gateway.attempt']),
        );
      assert.deepEqual(
        attempts.map((span) => [span.name, span.traceId, span.parentSpanId]),
        [
          ['chat gpt-4o-mini', CLIENT_TRACE_ID, edge.spanId],
          ['chat gpt-4o-mini', CLIENT_TRACE_ID, edge.spanId],
        ],
      );
      const [refused, answered] = attempts.map(attributes);
      assert.equal(refused['ai_gateway.backend'], 'limited');
      assert.equal(refused['error.type'], 'UPSTREAM.RATE_LIMITED');
      assert.equal(refused['http.response.status_code'], 429);
      assert.equal(refused['ai_gateway.failover.trigger'], 'rateLimit');
      assert.equal(attempts[0].status?.code, STATUS_ERROR);
      assert.equal(attempts[0].status?.message, 'UPSTREAM.RATE_LIMITED');

      assert.equal(answered['ai_gateway.backend'], 'answering');
      assert.equal(answered['ai_gateway.attempt'], 2);
      assert.notEqual(attempts[1].status?.code, STATUS_ERROR);
      assert.equal(answered['gen_ai.request.stream'], true);
      assert.equal(answered['gen_ai.usage.output_tokens'], 6);
      assert.ok(Number(answered['gen_ai.response.time_to_first_chunk']) > 0);
      // Ended with the stream, after the first attempt, within the edge span.
      assert.ok(BigInt(attempts[1].startTimeUnixNano) >= BigInt(attempts[0].endTimeUnixNano));
      assert.ok(BigInt(attempts[1].endTimeUnixNano) <= BigInt(edge.endTimeUnixNano));
      assert.ok(
        !JSON.stringify(receiver.spans).includes(PROMPT),
        'the prompt reached the collector',
      );

      // Each provider was called as its own attempt span's child.
      assert.equal(
        traceparentIds(limited.calls[0].headers.traceparent).parentId,
        attempts[0].spanId,
      );
      assert.equal(
        traceparentIds(upstream.calls[0].headers.traceparent).parentId,
        attempts[1].spanId,
      );
    });
  });

  describe('ingress, router and provider-adapter as three processes', () => {
    const upstream = new FakeOpenAiUpstream('traced-split');
    const receiver = new OtlpReceiver();
    const started: AppProcess[] = [];
    let ingress: AppProcess | undefined;

    before(async () => {
      await upstream.start();
      const collector = await receiver.start();
      const dir = mkdtempSync(join(tmpdir(), 'aigw-tracing-split-'));
      const config = join(dir, 'config.yaml');
      writeFileSync(
        config,
        `kind: AIGatewayRoute
metadata: {name: traced}
spec:
  backends:
  - {name: fake, provider: openai-compatible, baseUrl: "${upstream.baseUrl}", model: gpt-4o-mini}
`,
      );
      const common = { AI_GATEWAY_CONFIG: config, AI_GATEWAY_MISSING_SECRETS: 'warn' };
      const adapter = await startApp('provider-adapter', {
        ...common,
        AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
      });
      started.push(adapter);
      const router = await startApp('router', {
        ...common,
        AI_GATEWAY_DATA_DIR: join(dir, 'router'),
        PROVIDER_ADAPTER_URL: adapter.baseUrl,
        // The router makes the attempts, so their spans come from it.
        OTEL_EXPORTER_OTLP_ENDPOINT: collector,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      });
      started.push(router);
      ingress = await startApp('ingress', {
        ...common,
        AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
        ROUTER_URL: router.baseUrl,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'llm-edge',
      });
      started.push(ingress);
    });

    after(async () => {
      await Promise.all(started.map((app) => app.stop()));
      await Promise.all([upstream.stop(), receiver.stop()]);
    });

    it("carries the edge span's context to the router's attempt span and on to the provider", async () => {
      await chatWithTraceparent(ingress!.baseUrl);
      await Promise.all(started.map((app) => app.stop())); // each flushes its own batch
      const edge = assertGatewaySpan(receiver, 'llm-edge');
      assertAttemptSpan(receiver, upstream, edge, 'ai-gateway-router');
    });
  });

  it('refuses to start on an endpoint that is not a URL, in one line', async () => {
    const result = await runAppToExit('gateway', {
      AI_GATEWAY_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'aigw-tracing-bad-')), 'data'),
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      PORT: '0',
      ADMIN_PORT: '0',
    });
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      /^ai-gateway: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL, got "collector:4318"$/m,
    );
  });
});
