// A PDF named by `file_id` (uploaded through the gateway's Files API) was held at 0 tokens:
// the call's body names the file, not its pages, so a 300-page document cost its caller's
// budget a few tokens until its usage came. Its pages are counted at upload and kept with
// the file, and a call naming it is held at 4,600 tokens a page, as the same PDF inline
// is; the call's usage settles that hold once (the hold is not left beside the spend).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { metricSum } from '@aigw/testing';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { FilesAndChatBackend } from './files-and-chat-backend';
import { failure, upload } from './file-inputs-gateway';

const MODEL = 'gpt-docs';
const PAGES = 3;
/** Anthropic's 3,000 text tokens a page at most, plus the page's image at 1,600. */
const PER_PAGE = 4_600;
/** A day's tokens per user: room for the PDF's pages and a few more calls, not two PDFs. */
const LIMIT = 25_000;
/** What the backend reports for every call. */
const USAGE = { prompt_tokens: 9_000, completion_tokens: 5, total_tokens: 9_005 };

/** A PDF of `pages` written-out page objects (all the gateway's count reads). */
function pdf(pages: number) {
  const objects = Array.from(
    { length: pages },
    (_, i) => `${i + 3} 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\n`,
  );
  return Buffer.from(
    `%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Count ${pages} >>\nendobj\n${objects.join('')}%%EOF\n`,
  );
}

describe('all-in-one gateway: a PDF by file_id is held for its pages', () => {
  const backend = new FilesAndChatBackend();
  let gateway: AppProcess;
  let client: (user: string) => OpenAI;

  before(async () => {
    await backend.start();
    backend.chat.reportUsage(USAGE);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: docs}
spec:
  backends:
  - {name: docs-openai, provider: openai, baseUrl: "${backend.baseUrl}", model: gpt-4.1, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
  tokenBudget: {perUser: {limit: ${LIMIT}, period: 1d}}
`,
      { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend' },
    );
    client = (user) =>
      new OpenAI({
        baseURL: `${gateway.baseUrl}/v1`,
        apiKey: `sk-client-${user}`,
        maxRetries: 0,
        defaultHeaders: { 'x-user-id': user },
      });
  });

  after(async () => {
    await gateway?.stop();
    await backend.stop();
  });

  const ask = (openai: OpenAI, fileId: string, copies = 1) =>
    openai.chat.completions
      .create({
        model: MODEL,
        max_tokens: 10,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Summarize.' },
              ...Array.from({ length: copies }, () => ({
                type: 'file' as const,
                file: { file_id: fileId },
              })),
            ],
          },
        ],
      })
      .withResponse();

  const remaining = (response: Response) =>
    Number(response.headers.get('x-ratelimit-remaining-tokens'));

  const applied = async () =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
      'ai_gateway_budget_usage_events_total',
      { result: 'applied' },
    );

  /** Waits for the budget to have applied `count` usage events in all. */
  async function settled(count: number): Promise<void> {
    for (let i = 0; i < 150 && (await applied()) < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await applied(), count);
  }

  it('holds the file at its pages, and refuses a call whose pages pass a whole window', async () => {
    const alice = client('alice');
    const fileId = await upload(alice, MODEL, 'user_data', 'report.pdf', pdf(PAGES));
    const { response } = await ask(alice, fileId);
    const held = LIMIT - remaining(response);
    assert.ok(held >= PAGES * PER_PAGE, `held ${held}`);
    // The same file twice is sent, and billed, twice: past the whole day's 25,000.
    const error = await failure(ask(alice, fileId, 2));
    assert.equal(error.status, 400);
    assert.match(error.message, /may cost up to \d+ tokens/);
    await settled(1); // the first call's usage; the refused one had none
  });

  it('counts the file the same way in /v1/responses/input_tokens', async () => {
    const dave = client('dave');
    const fileId = await upload(dave, MODEL, 'user_data', 'report.pdf', pdf(PAGES));
    const count = async (content: unknown[]) => {
      const response = await fetch(`${gateway.baseUrl}/v1/responses/input_tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'dave' },
        body: JSON.stringify({ model: MODEL, input: [{ role: 'user', content }] }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      return ((await response.json()) as { input_tokens: number }).input_tokens;
    };
    const text = { type: 'input_text', text: 'Summarize.' };
    const withFile = await count([text, { type: 'input_file', file_id: fileId }]);
    assert.equal(withFile - (await count([text])), PAGES * PER_PAGE);
  });

  it("settles the hold to the call's usage once", async () => {
    const bob = client('bob');
    const fileId = await upload(bob, MODEL, 'user_data', 'report.pdf', pdf(PAGES));
    const first = await ask(bob, fileId);
    const held = LIMIT - remaining(first.response);
    await settled(2);
    // The second call's hold is the first's; what the first left is its usage alone.
    const second = await ask(bob, fileId);
    assert.equal(remaining(second.response), LIMIT - USAGE.total_tokens - held);
  });
});
