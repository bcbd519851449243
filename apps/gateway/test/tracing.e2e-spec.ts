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
// attributes, whose id the provider gets as its parent. Spans are batched; a graceful stop
// sends what is left, which is when these tests read them.

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
  status?: { code?: number };
}

interface ReceivedSpan extends OtlpSpan {
  serviceName: string;
}

/** OTLP's SPAN_KIND_SERVER. */
const SPAN_KIND_SERVER = 2;

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
function assertGatewaySpan(
  receiver: OtlpReceiver,
  upstream: FakeOpenAiUpstream,
  serviceName: string,
): void {
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

  // The provider was called as the gateway span's child, in the client's trace.
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

    it("exports a SERVER span in the client's trace, and the provider is its child", async () => {
      await chatWithTraceparent(gateway!.baseUrl);
      assert.match(gateway!.output(), /tracing on/);
      await gateway!.stop(); // a graceful stop flushes the batch
      assert.deepEqual([...new Set(receiver.contentTypes)], ['/v1/traces application/json']);
      assertGatewaySpan(receiver, upstream, 'ai-gateway-gateway');
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

    it("carries the edge span's context through router and provider-adapter to the provider", async () => {
      await chatWithTraceparent(ingress!.baseUrl);
      await ingress!.stop();
      assertGatewaySpan(receiver, upstream, 'llm-edge');
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
