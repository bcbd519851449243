// security.mediaUrls: a prompt's image or file URL, which the backend fetches itself, refused
// at the edge (a 400 naming the option) unless inline or to a listed host.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type Operation,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { screenedUpload } from './prompt-rules-fixture';
import type { MediaUrlPart } from './media-urls';

const router: RouterPort = {
  route: () => Promise.reject(new Error('unused')),
  listModels: () => [],
};

function pipelineWith(mediaUrls: string, refused: [string, MediaUrlPart][] = []) {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: internal}
spec:
  backends: [{name: vllm, provider: openai-compatible, baseUrl: "http://vllm:8000", model: m}]
  security:
    mediaUrls: ${mediaUrls}
`,
    { env: {}, missingSecrets: 'warn' },
  );
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const { config } = parsed;
  return new IngressPipeline(() => config, router, {}, undefined, {
    mediaUrlRefused: (route, part) => refused.push([route, part]),
  });
}

const chat = (...parts: unknown[]): JsonObject => ({
  model: 'm',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, ...parts] }],
});

const request = (body: JsonObject, operation: Operation = 'chat'): GatewayRequest =>
  ({ operation, requestedModel: 'm', body }) as unknown as GatewayRequest;

const image = (url: unknown) => ({ type: 'image_url', image_url: { url } });
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

/** The 400 naming security.mediaUrls (and `param`, where given), never the URL. */
function refusedAt(param: string | undefined, url: string) {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
    assert.match(error.message, /security\.mediaUrls/);
    assert.ok(!error.message.includes(url), error.message);
    assert.equal(error.param, param);
    return true;
  };
}

describe('security.mediaUrls', () => {
  it('refuses every remote URL part a chat body can carry, naming the part', () => {
    const refused: [string, MediaUrlPart][] = [];
    const pipeline = pipelineWith('{refuse: true}', refused);
    const metadata = 'http://169.254.169.254/latest/meta-data/';
    const cases: [unknown, string, MediaUrlPart][] = [
      [image(metadata), 'image_url.url', 'image'],
      [{ type: 'image_url', image_url: metadata }, 'image_url', 'image'],
      [{ type: 'file', file: { file_url: metadata } }, 'file.file_url', 'file'],
      [{ type: 'video_url', video_url: { url: metadata } }, 'video_url.url', 'other'],
      [{ type: 'audio_url', audio_url: { url: metadata } }, 'audio_url.url', 'other'],
      [{ type: 'input_image', image_url: metadata }, 'image_url', 'image'],
      [{ type: 'input_file', file_url: metadata }, 'file_url', 'file'],
      [{ type: 'image', source: { type: 'url', url: metadata } }, 'source.url', 'image'],
      [image('file:///etc/passwd'), 'image_url.url', 'image'],
    ];
    for (const [part, at] of cases) {
      assert.throws(
        () => pipeline.checkMediaUrls(request(chat(part)), true),
        refusedAt(`messages[0].content[1].${at}`, metadata),
        JSON.stringify(part),
      );
    }
    assert.deepEqual(
      refused,
      cases.map(([, , part]) => ['internal', part]),
    );
  });

  it('refuses a URL part by its keys whatever its type, as vLLM reads one with no type or a uuid', () => {
    const refused: [string, MediaUrlPart][] = [];
    const pipeline = pipelineWith('{refuse: true}', refused);
    const metadata = 'http://169.254.169.254/latest/meta-data/';
    // vLLM takes a part without `type` by the URL key it holds, and one with a `uuid` so
    // whatever `type` it names; an input_image's image_url as {url} reads the same.
    const cases: [unknown, string, MediaUrlPart][] = [
      [{ image_url: { url: metadata } }, 'image_url.url', 'image'],
      [{ image_url: metadata }, 'image_url', 'image'],
      [{ video_url: metadata }, 'video_url', 'other'],
      [{ audio_url: { url: metadata } }, 'audio_url.url', 'other'],
      [{ type: 'text', text: 'x', uuid: 'u1', image_url: metadata }, 'image_url', 'image'],
      [{ type: 'input_image', image_url: { url: metadata } }, 'image_url.url', 'image'],
    ];
    for (const [part, at] of cases) {
      assert.throws(
        () => pipeline.checkMediaUrls(request(chat(part)), true),
        refusedAt(`messages[0].content[1].${at}`, metadata),
        JSON.stringify(part),
      );
    }
    assert.deepEqual(
      refused,
      cases.map(([, , part]) => ['internal', part]),
    );
    // One at the body's top level is named without a leading dot.
    assert.throws(
      () => pipeline.checkMediaUrls(request({ model: 'm', image_url: metadata }), true),
      refusedAt('image_url', metadata),
    );
    // Keys named like the built-in object's are no media keys.
    pipeline.checkMediaUrls(
      request(chat({ type: 'text', text: 'x', constructor: metadata })),
      true,
    );
  });

  it('names no param for a body translated from another API, and reads moderations input', () => {
    const pipeline = pipelineWith('{refuse: true}');
    const url = 'https://example.com/cat.png';
    assert.throws(
      () => pipeline.checkMediaUrls(request(chat(image(url))), false),
      refusedAt(undefined, url),
    );
    assert.throws(
      () =>
        pipeline.checkMediaUrls(
          request({ model: 'm', input: [{ type: 'text', text: 'x' }, image(url)] }, 'moderations'),
          true,
        ),
      refusedAt('input[1].image_url.url', url),
    );
  });

  it("reads every part of any body, as vLLM's embeddings take chat messages", () => {
    const pipeline = pipelineWith('{refuse: true}');
    const url = 'http://10.0.0.9/cat.png';
    const embeddings = { model: 'm', messages: [{ role: 'user', content: [image(url)] }] };
    assert.throws(
      () => pipeline.checkMediaUrls(request(embeddings, 'embeddings'), true),
      refusedAt('messages[0].content[0].image_url.url', url),
    );
    const rerank = { model: 'm', query: 'cats', documents: [{ content: [image(url)] }] };
    assert.throws(
      () => pipeline.checkMediaUrls(request(rerank, 'rerank'), true),
      refusedAt('documents[0].content[0].image_url.url', url),
    );
    // Deeply nested JSON is walked without recursion: no stack overflow, a plain answer.
    let deep: unknown = [image(url)];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.throws(
      () => pipeline.checkMediaUrls(request({ model: 'm', extra: deep }), false),
      refusedAt(undefined, url),
    );
  });

  it('passes inline media, file ids and text, and everything on a route without it', () => {
    const body = chat(
      image(PNG),
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
      { type: 'file', file: { file_id: 'file-abc' } },
      { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
    );
    pipelineWith('{refuse: true}').checkMediaUrls(request(body), true);
    const open = pipelineWith('{refuse: false}');
    open.checkMediaUrls(request(chat(image('http://10.0.0.1/x.png'))), true);
  });

  it('passes URLs to allowedHosts only, as every URL parser reads the host', () => {
    const pipeline = pipelineWith("{allowedHosts: [images.example.com, '*.cdn.example.org']}");
    const passes = [
      'https://images.example.com/cat.png',
      'https://IMAGES.example.com:8443/cat.png?x=1',
      'http://a.cdn.example.org/cat.png',
      'https://b.a.cdn.example.org',
    ];
    for (const url of passes) pipeline.checkMediaUrls(request(chat(image(url))), true);
    const refused = [
      'https://example.com/cat.png',
      'https://cdn.example.org/cat.png',
      'https://images.example.com.evil.test/cat.png',
      'https://images.example.com@169.254.169.254/',
      'https://user:pw@images.example.com/cat.png',
      'http://169.254.169.254\\@images.example.com/',
      'ftp://images.example.com/cat.png',
      ' https://images.example.com/cat.png',
    ];
    for (const url of refused) {
      assert.throws(
        () => pipeline.checkMediaUrls(request(chat(image(url))), true),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          /security\.mediaUrls\.allowedHosts/.test(error.message),
        url,
      );
    }
  });

  it('refuses a batch line naming a URL, Responses lines included', () => {
    const pipeline = pipelineWith('{refuse: true}');
    const url = 'http://10.0.0.7/report.pdf';
    const line = (path: string, body: object) =>
      JSON.stringify({ custom_id: 'a', method: 'POST', url: path, body });
    const chatLine = line('/v1/chat/completions', chat(image(url)));
    const responsesLine = line('/v1/responses', {
      model: 'm',
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: url }] }],
    });
    for (const text of [chatLine, responsesLine]) {
      assert.throws(() => screenedUpload(pipeline, text, 'm', 'm'), /security\.mediaUrls/);
    }
    const inline = line('/v1/chat/completions', chat(image(PNG)));
    assert.equal(screenedUpload(pipeline, inline, 'm', 'm').length > 0, true);
  });

  it('is a config error for a host that is no host name', () => {
    const parsed = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: internal}
spec:
  backends: [{name: vllm, provider: local, model: m}]
  security:
    mediaUrls: {allowedHosts: ['http://images.example.com/']}
`,
      { env: {} },
    );
    assert.equal(parsed.ok, false);
    assert.match(JSON.stringify(!parsed.ok && parsed.errors), /mediaUrls/);
  });
});
