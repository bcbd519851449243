// /v1/responses/input_tokens counted an input_file named by file_id as nothing (the body
// names the file, not its pages), an undercount that looks right, where the call it sizes
// is held for the file's pages: it now counts the file as the call's hold does, or, where
// the Files API is not served, refuses the id as creating the response would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import type { InputFileResolver } from './input-files';
import { registerResponsesSideRoutes } from './responses-side-routes';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: local, model: m}]
`,
  { env: {} },
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const config: GatewayConfig = parsed.config;

const router: RouterPort = {
  route: () => Promise.reject(new Error('a count routes nothing')),
  listModels: () => ['m'],
};

/** Every file a 2-page PDF at its backend, held as the call's hold would be. */
const files: InputFileResolver = {
  resolve: async (id) => ({
    kind: 'id',
    file: { file_id: id.replace('file-aigw_', 'up-') },
    heldTokens: 2 * 4_600,
  }),
};

async function counted(input: unknown, served?: InputFileResolver) {
  const fastify = Fastify();
  registerResponsesSideRoutes(
    fastify,
    '/v1',
    new IngressPipeline(() => config, router, {}),
    served,
  );
  const reply = await fastify.inject({
    method: 'POST',
    url: '/v1/responses/input_tokens',
    payload: { model: 'm', input },
  });
  await fastify.close();
  return { status: reply.statusCode, body: reply.json<Record<string, unknown>>() };
}

const TEXT = { type: 'input_text', text: 'Summarize.' };
const FILE = { type: 'input_file', file_id: 'file-aigw_1' };

describe('/v1/responses/input_tokens with a file by id', () => {
  it('counts the file as the call would be held for it, each time it is named', async () => {
    const text = await counted([{ role: 'user', content: [TEXT] }], files);
    const once = await counted([{ role: 'user', content: [TEXT, FILE] }], files);
    const twice = await counted([{ role: 'user', content: [TEXT, FILE, FILE] }], files);
    assert.equal(once.status, 200, JSON.stringify(once.body));
    const added = (reply: typeof once) =>
      (reply.body.input_tokens as number) - (text.body.input_tokens as number);
    assert.equal(added(once), 2 * 4_600);
    assert.equal(added(twice), 2 * 2 * 4_600);
  });

  it('refuses the id, naming it, where the Files API is not served', async () => {
    const reply = await counted([{ role: 'user', content: [TEXT, FILE] }]);
    assert.equal(reply.status, 400);
    assert.equal((reply.body.error as { param?: string }).param, 'input[0].content[1].file_id');
  });
});
