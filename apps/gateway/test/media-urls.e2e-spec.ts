// security.mediaUrls through the whole gateway, in both deployment shapes: a prompt's image
// or file URL, which a self-hosted backend would fetch from inside the network, is refused
// at the edge in each API's own error format, before any backend is called, and counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiToolUpstream } from '@aigw/testing/fake-provider';
import { metricSum } from '@aigw/testing';
import {
  startGatewayWithConfig,
  startSplitDataPlane,
  type AppProcess,
} from '@aigw/testing/processes';

const METADATA = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
const ALLOWED = 'https://images.example.com/cat.png';
const PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** An error answer in any of the three formats (OpenAI's, Anthropic's, Google's). */
interface ErrorBody {
  readonly type?: string;
  readonly error: { type?: string; param?: string; status?: string; message: string };
}

/** The URL of the image part (the second) each call sent the backend. */
function sentImageUrls(calls: readonly { body: Record<string, unknown> }[]): string[] {
  return calls.map((call) => {
    const [message] = call.body.messages as { content: { image_url?: { url: string } }[] }[];
    return message.content[1].image_url!.url;
  });
}

for (const shape of ['all-in-one', 'split'] as const) {
  describe(`security.mediaUrls refuses media URLs at the edge (${shape})`, () => {
    const backend = new FakeOpenAiToolUpstream();
    const services: AppProcess[] = [];
    let dir: string | undefined;
    let edge = '';
    let adminPort = 0;

    before(async () => {
      await backend.start();
      const config = `kind: AIGatewayRoute
metadata: {name: internal}
spec:
  backends:
  - {name: vllm, provider: openai-compatible, baseUrl: "${backend.baseUrl}", model: vision}
  security:
    mediaUrls: {refuse: true, allowedHosts: [images.example.com]}
`;
      const env = { AI_GATEWAY_MISSING_SECRETS: 'warn' };
      if (shape === 'all-in-one') {
        const gateway = await startGatewayWithConfig(config, env);
        services.push(gateway);
        edge = gateway.baseUrl;
        adminPort = gateway.adminPort;
        return;
      }
      dir = mkdtempSync(join(tmpdir(), 'aigw-media-urls-'));
      writeFileSync(join(dir, 'config.yaml'), config);
      const { ingress } = await startSplitDataPlane(
        { ...env, AI_GATEWAY_CONFIG: join(dir, 'config.yaml') },
        dir,
        services,
      );
      edge = ingress.baseUrl;
      adminPort = ingress.adminPort;
    });
    after(async () => {
      await Promise.all(services.map((service) => service.stop()));
      await backend.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const post = async (path: string, body: object) => {
      const response = await fetch(`${edge}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as ErrorBody };
    };
    const chat = (url: string) => ({
      model: 'vision',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });

    it('refuses a chat image URL with an OpenAI 400 naming the option and the part', async () => {
      backend.reset();
      const { status, body } = await post('/v1/chat/completions', chat(METADATA));
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.error.type, 'invalid_request_error');
      assert.equal(body.error.param, 'messages[0].content[1].image_url.url');
      assert.match(body.error.message, /security\.mediaUrls\.allowedHosts/);
      assert.ok(!JSON.stringify(body).includes('169.254'), JSON.stringify(body));
      assert.equal(backend.calls.length, 0);
    });

    it('passes inline images and URLs to an allowed host', async () => {
      backend.reset();
      for (const url of [PNG, ALLOWED]) {
        const { status, body } = await post('/v1/chat/completions', chat(url));
        assert.equal(status, 200, JSON.stringify(body));
      }
      assert.deepEqual(sentImageUrls(backend.calls), [PNG, ALLOWED]);
    });

    it("refuses a Responses input_image URL in OpenAI's format", async () => {
      backend.reset();
      const { status, body } = await post('/v1/responses', {
        model: 'vision',
        input: [{ role: 'user', content: [{ type: 'input_image', image_url: METADATA }] }],
      });
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /security\.mediaUrls/);
      assert.equal(backend.calls.length, 0);
    });

    it("refuses Messages image and document URL sources in Anthropic's format", async () => {
      backend.reset();
      for (const block of [
        { type: 'image', source: { type: 'url', url: METADATA } },
        { type: 'document', source: { type: 'url', url: `${METADATA}report.pdf` } },
      ]) {
        const { status, body } = await post('/v1/messages', {
          model: 'vision',
          max_tokens: 16,
          messages: [{ role: 'user', content: [block, { type: 'text', text: 'Describe it.' }] }],
        });
        assert.equal(status, 400, JSON.stringify(body));
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'invalid_request_error');
        assert.match(body.error.message, /security\.mediaUrls/);
      }
      assert.equal(backend.calls.length, 0);
    });

    it("refuses a Gemini fileData link in Google's format", async () => {
      backend.reset();
      const { status, body } = await post('/v1beta/models/vision:generateContent', {
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'What is this?' },
              { fileData: { fileUri: METADATA, mimeType: 'image/png' } },
            ],
          },
        ],
      });
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.error.status, 'INVALID_ARGUMENT');
      assert.match(body.error.message, /security\.mediaUrls/);
      assert.equal(backend.calls.length, 0);
    });

    it('counts each refusal by route and part', async () => {
      const text = await (await fetch(`http://127.0.0.1:${adminPort}/stats/prometheus`)).text();
      const refused = (part: string) =>
        metricSum(text, 'ai_gateway_media_urls_refused_total', { route: 'internal', part });
      assert.equal(refused('image'), 4);
      assert.equal(refused('file'), 1);
    });
  });
}
