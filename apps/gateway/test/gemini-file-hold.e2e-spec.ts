// A Gemini file named by `fileData.fileUri` was held at 0 tokens: the call's body names the
// file, not the video behind it, so an hour of video (~1M tokens) passed a nearly spent
// budget. The gateway asks the holding backend's countTokens for the file at first use,
// keeps the count with the file, and holds each call naming it at that count.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, createPartFromUri, GoogleGenAI, type File as GeminiFile } from '@google/genai';
import { metricSum } from '@aigw/testing';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { FakeGeminiFilesUpstream } from '@aigw/testing/fake-provider';

const MODEL = 'gemini-video';
const KEY = 'AIzaBackendKeyV';
/** A day's tokens per user: many short calls, not one naming a long video. */
const LIMIT = 50_000;
/** What the backend counts for the long video: an hour at Gemini 2.5's rate, about. */
const VIDEO_TOKENS = 950_000;

describe('all-in-one gateway: a Gemini file is held at its countTokens', () => {
  const backend = new FakeGeminiFilesUpstream('v', KEY);
  let gateway: AppProcess;
  let alice: GoogleGenAI;

  before(async () => {
    await backend.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: gemini-video}
spec:
  backends:
  - {name: gemini-v, provider: google-gemini, baseUrl: "${backend.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: key-v}}}
  userIdentification: {header: x-user-id}
  tokenBudget: {perUser: {limit: ${LIMIT}, period: 1d}}
`,
      { AI_GATEWAY_SECRET_KEY_V_APIKEY: KEY },
    );
    alice = new GoogleGenAI({
      apiKey: 'goog-client-key',
      httpOptions: {
        baseUrl: gateway.baseUrl,
        headers: { 'x-user-id': 'alice', 'x-ai-gateway-model': MODEL },
      },
    });
  });

  after(async () => {
    await gateway?.stop();
    await backend.stop();
  });

  const upload = async (tokens: number): Promise<GeminiFile> => {
    const before = new Set(backend.files.keys());
    const file = await alice.files.upload({
      file: new Blob([Buffer.from('not really a video')], { type: 'video/mp4' }),
      config: { mimeType: 'video/mp4' },
    });
    const held = [...backend.files.keys()].find((id) => !before.has(id))!;
    backend.fileTokens.set(held, tokens);
    return file;
  };

  const ask = (file: GeminiFile) =>
    alice.models.generateContent({
      model: MODEL,
      contents: [
        {
          role: 'user',
          parts: [createPartFromUri(file.uri!, file.mimeType!), { text: 'What happens?' }],
        },
      ],
      config: { maxOutputTokens: 100 },
    });

  it('refuses a call naming a video longer than the budget allows, calling no model', async () => {
    const video = await upload(VIDEO_TOKENS);
    const generated = () => backend.calls.filter((c) => c.path.includes(':generateContent'));
    // More than a whole window: the 400 admission answers any call that could never fit.
    await assert.rejects(ask(video), (error: unknown) => {
      assert.ok(error instanceof ApiError && error.status === 400, String(error));
      const cost = Number(/may cost up to (\d+) tokens/.exec(error.message)?.[1]);
      assert.ok(cost > VIDEO_TOKENS && cost < VIDEO_TOKENS + 1_000, error.message);
      return true;
    });
    assert.equal(generated().length, 0);
    // The backend counted the file once, with its own key, for the model it runs.
    const counts = backend.calls.filter((c) => c.path.includes(':countTokens'));
    assert.equal(counts.length, 1);
    assert.equal(counts[0].path, '/v1beta/models/gemini-2.5-flash:countTokens');
    assert.equal(counts[0].headers['x-goog-api-key'], KEY);
  });

  it('counts the file in countTokens as the hold does', async () => {
    const counts = () => backend.calls.filter((c) => c.path.includes(':countTokens')).length;
    const before = counts();
    const video = await upload(VIDEO_TOKENS);
    const counted = await alice.models.countTokens({
      model: MODEL,
      contents: [{ role: 'user', parts: [createPartFromUri(video.uri!, video.mimeType!)] }],
    });
    assert.ok((counted.totalTokens ?? 0) >= VIDEO_TOKENS, String(counted.totalTokens));
    assert.equal(counts(), before + 1);
  });

  it('serves a short clip within the budget, its count kept with the file', async () => {
    const clip = await upload(2_000);
    const answer = await ask(clip);
    assert.equal(answer.text, 'read by v');
    await ask(clip);
    assert.equal(backend.calls.filter((c) => c.path.includes(':countTokens')).length, 3);
    const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
    assert.equal(metricSum(metrics, 'ai_gateway_gemini_file_count_failed_total'), 0);
  });
});
