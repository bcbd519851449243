import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { GatewayEndpoint } from '@aigw/contracts';
import type { GatewayRequest, RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { cutText } from './cut-text';
import { PayloadCapture, type RoutePayloadLogging } from './payload-capture';
import { StreamAnswer } from './stream-answer';

describe('cutText', () => {
  it('keeps a text within maxBytes whole, with its UTF-8 size', () => {
    assert.deepEqual(cutText('héllo', 256), { text: 'héllo', truncated: false, bytes: 6 });
    const exact = 'é'.repeat(200); // 400 bytes, 200 units: counted, not cut
    assert.deepEqual(cutText(exact, 400), { text: exact, truncated: false, bytes: 400 });
  });

  it('cuts at maxBytes without splitting a character, and says so', () => {
    const text = 'a' + 'é'.repeat(300) + '😀'.repeat(100);
    const cut = cutText(text, 256);
    assert.equal(cut.truncated, true);
    assert.equal(cut.bytes, Buffer.byteLength(text));
    assert.ok(Buffer.byteLength(cut.text) <= 256);
    // 'a' + 127 whole 'é' (255 bytes): the 128th would end past 256.
    assert.equal(cut.text, 'a' + 'é'.repeat(127));
    const emoji = cutText('😀'.repeat(100), 258);
    assert.equal(emoji.text, '😀'.repeat(64), 'a surrogate pair is never split');
    assert.ok(!emoji.text.includes('\ufffd'));
  });
});

const chunk = (delta: object, extra: object = {}) => ({
  id: 'chatcmpl-1',
  model: 'gpt-4o',
  choices: [{ index: 0, delta, finish_reason: null, ...extra }],
});

describe('StreamAnswer', () => {
  it('joins text, tool calls and finish reasons per choice, with the usage chunk', () => {
    const stream = new StreamAnswer(1024);
    stream.add(chunk({ role: 'assistant', content: '' }));
    stream.add(chunk({ content: 'Hel' }));
    stream.add(chunk({ content: 'lo' }));
    stream.add(
      chunk({
        tool_calls: [
          { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } },
        ],
      }),
    );
    stream.add(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }));
    stream.add(chunk({}, { finish_reason: 'tool_calls' }));
    stream.add({
      id: 'chatcmpl-1',
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    });
    const { json, droppedBytes } = stream.assemble();
    assert.equal(droppedBytes, 0);
    assert.deepEqual(JSON.parse(json), {
      id: 'chatcmpl-1',
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          content: 'Hello',
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: { name: 'f', arguments: '{"a":1}' },
            },
          ],
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    });
  });

  it("takes a completion's text, and keeps only a prefix past its limit", () => {
    const stream = new StreamAnswer(5);
    stream.add({ choices: [{ index: 0, text: 'abc', finish_reason: null }] });
    stream.add({ choices: [{ index: 0, text: 'défg', finish_reason: null }] });
    stream.add({ choices: [{ index: 0, text: 'h', finish_reason: 'length' }] });
    const { json, droppedBytes } = stream.assemble();
    assert.equal(stream.truncated, true);
    assert.equal(droppedBytes, 6, "'défg' (5 bytes) and 'h': later text never fills a gap");
    assert.deepEqual(JSON.parse(json).choices, [
      { index: 0, content: 'abc', finish_reason: 'length' },
    ]);
  });
});

function load(payloadLogging: string): GatewayConfig {
  const result = parseGatewayConfig(
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: logged}
spec:
  backends: [{name: p, provider: local, model: logged}]
  security:
    promptValidation:
      redact: {detectors: [email, apiKey]}
${payloadLogging}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: quiet}
spec:
  backends: [{name: o, provider: local, model: quiet}]
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('unused')),
  listModels: () => [],
};

describe('payload capture through the pipeline', () => {
  const config = load('  payloadLogging: {maxBytes: 256}');
  const pipeline = new IngressPipeline(() => config, router, {});
  const request = (model: string, content: string, operation: 'chat' | 'speech' = 'chat') =>
    pipeline.redact(
      pipeline.prepare(
        operation,
        { model, messages: [{ role: 'user', content }] },
        { authorization: 'Bearer sk-client-secret-key-0123456789' },
        'req-1',
      ) as GatewayRequest,
      () => undefined,
    );
  const start = (req: GatewayRequest, logging = pipeline.payloadLoggingFor(req)) =>
    logging && PayloadCapture.start(logging, GatewayEndpoint.ChatCompletions, req, () => undefined);

  it('is off for a route without payloadLogging, and for every route when none has it', () => {
    assert.equal(pipeline.payloadLoggingFor(request('quiet', 'hi')), undefined);
    const none = new IngressPipeline(() => load(''), router, {});
    const req = none.prepare(
      'chat',
      { model: 'logged', messages: [{ role: 'user', content: 'hi' }] },
      {},
      'r',
    ) as GatewayRequest;
    assert.equal(none.payloadLoggingFor(req), undefined);
  });

  it('logs the request as redacted, never a header, cut at maxBytes', () => {
    const req = request('logged', 'mail a@b.io, key sk-proj-abcdefghijklmnopqrstuvwxyz012345');
    const capture = start(req);
    assert.ok(capture);
    const logged = capture.finish({ httpStatus: 200 }, performance.now() - 5);
    assert.equal(logged.route, 'logged');
    assert.equal(logged.requestBody.truncated, false);
    assert.match(logged.requestBody.text, /\[REDACTED:email\].*\[REDACTED:apiKey\]/);
    assert.doesNotMatch(logged.requestBody.text, /a@b\.io|sk-proj|sk-client|authorization/i);
    assert.ok(logged.latencyMs >= 5);

    const long = start(request('logged', 'x'.repeat(1000)))!;
    const cut = long.finish({ httpStatus: 200 }, performance.now()).requestBody;
    assert.equal(cut.truncated, true);
    assert.equal(Buffer.byteLength(cut.text), 256);
    assert.ok(cut.bytes > 1000);
  });

  it("logs a JSON answer whole or cut, and a stream's assembled answer", () => {
    const json = start(request('logged', 'hi'))!;
    json.answer({ choices: [{ message: { content: 'short' } }] });
    assert.deepEqual(json.finish({ httpStatus: 200 }, 0).responseBody, {
      text: '{"choices":[{"message":{"content":"short"}}]}',
      truncated: false,
      bytes: 45,
    });
    const streamed = start(request('logged', 'hi'))!;
    for (let i = 0; i < 100; i++) streamed.chunk(chunk({ content: 'word ' }));
    const body = streamed.finish({ httpStatus: 200 }, 0).responseBody;
    assert.equal(body.truncated, true);
    assert.ok(Buffer.byteLength(body.text) <= 256);
    assert.ok(body.bytes >= 500);
  });

  it('draws by sampleRate, telling the route of one left out; logs no audio', () => {
    const logging: RoutePayloadLogging = { route: 'logged', maxBytes: 256, sampleRate: 0.5 };
    const req = request('logged', 'hi');
    const dropped: string[] = [];
    const draw = (n: number) =>
      PayloadCapture.start(
        logging,
        GatewayEndpoint.ChatCompletions,
        req,
        (r) => dropped.push(r),
        () => n,
      );
    assert.ok(draw(0.49));
    assert.equal(draw(0.5), undefined);
    assert.deepEqual(dropped, ['logged']);
    const speech = { ...req, operation: 'speech' as const };
    assert.equal(
      PayloadCapture.start(
        logging,
        GatewayEndpoint.AudioSpeech,
        speech,
        () => assert.fail(),
        () => 0,
      ),
      undefined,
    );
  });
});
