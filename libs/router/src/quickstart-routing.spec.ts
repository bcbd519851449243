// The quickstart config (config/quickstart.yaml) must answer with no keys from the
// built-in local model, and switch to the real provider as soon as a key is given: from
// the environment variable the README documents, or from the mounted secrets directory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadStartupConfig, secretEnvVarName, type GatewayConfig } from '@aigw/config';
import type {
  GatewayAnswer,
  GatewayRequest,
  ProviderCall,
  ProviderPort,
} from '@aigw/contracts/data-plane';
import { FailoverRouter } from './failover-router';

const QUICKSTART = resolve(__dirname, '../../../config/quickstart.yaml');
// The variable the README names for the quickstart's `apiKeyRef: {name: openai-key}`.
const KEY_VARIABLE = 'AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY';

async function quickstart(env: Record<string, string>): Promise<GatewayConfig> {
  // The gateway's default policy: the quickstart marks its key optional, so no key loads.
  const loaded = await loadStartupConfig({ env, path: QUICKSTART, missingSecrets: 'error' });
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.config;
}

/** Records every call and answers it; nothing leaves the process. */
class RecordingProviders implements ProviderPort {
  readonly calls: ProviderCall[] = [];
  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    this.calls.push(call);
    return {
      kind: 'json',
      status: 200,
      body: { model: call.target.model, choices: [] },
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
      servedBy: {
        backend: call.target.backendName,
        provider: call.target.provider,
        model: call.target.model,
      },
    };
  }
}

const chat: GatewayRequest = {
  requestId: 'r1',
  operation: 'chat',
  requestedModel: 'gpt-4o-mini',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
};

async function firstCall(config: GatewayConfig): Promise<ProviderCall> {
  const providers = new RecordingProviders();
  const router = new FailoverRouter({ config: () => config, providers });
  const answer = await router.route(chat, new AbortController().signal);
  assert.equal(answer.kind === 'json' && answer.body.model, 'gpt-4o-mini');
  assert.equal(providers.calls.length, 1, 'one call answers the request');
  return providers.calls[0];
}

describe('the quickstart config', () => {
  it('reads its OpenAI key from the variable the README documents', () => {
    assert.equal(secretEnvVarName({ name: 'openai-key', key: 'apiKey' }), KEY_VARIABLE);
    const readme = readFileSync(resolve(__dirname, '../../../README.md'), 'utf8');
    assert.ok(readme.includes(`${KEY_VARIABLE}=sk-`), 'the README shows how to set it');
  });

  it('without a key: the first call goes to the built-in local model', async () => {
    const call = await firstCall(await quickstart({}));
    assert.equal(call.target.provider, 'local');
    assert.equal(call.target.backendName, 'local-gpt-4o-mini');
    assert.equal(call.target.credential, undefined);
  });

  it('with the key in the environment: the first call goes to OpenAI with that key', async () => {
    const call = await firstCall(await quickstart({ [KEY_VARIABLE]: 'sk-quickstart-env' }));
    assert.equal(call.target.provider, 'openai');
    assert.equal(call.target.backendName, 'openai');
    assert.equal(call.target.model, 'gpt-4o-mini');
    assert.equal(call.target.credential?.apiKey.reveal(), 'sk-quickstart-env');
  });

  it('with the key in the secrets directory: the first call goes to OpenAI with that key', async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'aigw-quickstart-secrets-'));
    try {
      mkdirSync(join(secrets, 'openai-key'));
      writeFileSync(join(secrets, 'openai-key', 'apiKey'), 'sk-quickstart-file\n');
      const call = await firstCall(await quickstart({ AI_GATEWAY_SECRETS_DIR: secrets }));
      assert.equal(call.target.provider, 'openai');
      assert.equal(call.target.credential?.apiKey.reveal(), 'sk-quickstart-file');
    } finally {
      rmSync(secrets, { recursive: true, force: true });
    }
  });
});
