import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { countedInputTokens } from './countable-model';

// Gemini's :countTokens of a prompt with audio counted its text alone (a few tokens for ten
// seconds of speech Gemini bills 320 for), so a client sizing its context by it was misled.

function config(): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: local, model: m}]
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('a count routes nothing')),
  listModels: () => ['m'],
};

/** Ten seconds of 16 kHz 16-bit mono PCM WAV, as base64. */
function tenSecondWav(): string {
  const byteRate = 32_000;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt32LE(byteRate, 28);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(10 * byteRate, 40);
  return Buffer.concat([header, Buffer.alloc(10 * byteRate)]).toString('base64');
}

describe("counting a prompt's audio", () => {
  it('counts ten seconds of speech at 32 tokens a second beside the text', async () => {
    const pipeline = new IngressPipeline(config, router, {});
    const text = { type: 'text', text: 'What is said?' };
    const audio = { type: 'input_audio', input_audio: { data: tenSecondWav(), format: 'wav' } };
    const count = (content: unknown[]) =>
      countedInputTokens(pipeline, { model: 'm', messages: [{ role: 'user', content }] }, {}, 'c');
    assert.equal((await count([text, audio])) - (await count([text])), 320);
  });
});
