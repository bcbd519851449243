// The keys' digest matches between the keys loaded and the same keys on disk, tells
// different keys apart, and is no bare hash of a key (which would verify a guessed key).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseGatewayConfig } from '../loader/load-config';
import { fingerprintNow, fingerprintOfConfig, secretFolderNames } from './secrets-fingerprint';

const dir = mkdtempSync(join(tmpdir(), 'aigw-fingerprint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const text = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: openai, model: gpt-4o, auth: {apiKeyRef: {name: openai-key}}}
  - {name: anthropic, model: claude-sonnet-4-5, auth: {apiKeyRef: {name: anthropic-key}}}
`;

function keysDir(name: string, files: Record<string, Buffer | string>): string {
  const secretsDir = join(dir, name);
  for (const [folder, value] of Object.entries(files)) {
    mkdirSync(join(secretsDir, folder), { recursive: true });
    writeFileSync(join(secretsDir, folder, 'apiKey'), value);
  }
  return secretsDir;
}

function load(secretsDir: string, env: Record<string, string> = {}) {
  const result = parseGatewayConfig(text, { secretsDir, env, missingSecrets: 'warn' });
  assert.ok(result.ok);
  return { config: result.config, sources: { secretsDir, env } };
}

describe('secrets fingerprint', () => {
  it('matches the loaded keys with the same keys on disk, however they are spelled', () => {
    const secretsDir = keysDir('same', {
      'openai-key': 'sk-one\r\n',
      // Not UTF-8: the loader decodes it with a replacement character.
      'anthropic-key': Buffer.from([0x73, 0x6b, 0xff, 0x2d, 0x32, 0x0a]),
    });
    const { config, sources } = load(secretsDir);
    assert.deepEqual(secretFolderNames(config).sort(), ['anthropic-key', 'openai-key']);
    assert.equal(fingerprintNow(config, sources), fingerprintOfConfig(config));

    const fromEnv = load(keysDir('env', {}), {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-env\n',
    });
    assert.equal(
      fingerprintNow(fromEnv.config, fromEnv.sources),
      fingerprintOfConfig(fromEnv.config),
    );
  });

  it('matches a key saved with a byte-order mark and spaces around it, as the loader reads it', () => {
    const secretsDir = keysDir('padded', {
      'openai-key': '\uFEFF sk-one \r\n',
      'anthropic-key': '\t\n',
    });
    const { config, sources } = load(secretsDir);
    assert.equal(fingerprintNow(config, sources), fingerprintOfConfig(config));
    // Other white space is the key's own, on both sides (or every look would see a change).
    const nbsp = load(keysDir('nbsp', { 'openai-key': 'sk-one\u00a0\n' }));
    assert.equal(fingerprintNow(nbsp.config, nbsp.sources), fingerprintOfConfig(nbsp.config));
    const fromEnv = load(keysDir('padded-env', {}), {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: ' sk-env\t',
    });
    assert.equal(
      fingerprintNow(fromEnv.config, fromEnv.sources),
      fingerprintOfConfig(fromEnv.config),
    );
  });

  it('tells a changed, emptied or removed key apart', () => {
    const secretsDir = keysDir('changing', { 'openai-key': 'sk-a', 'anthropic-key': 'sk-b' });
    const { config, sources } = load(secretsDir);
    const before = fingerprintOfConfig(config);
    writeFileSync(join(secretsDir, 'openai-key', 'apiKey'), 'sk-c');
    const changed = fingerprintNow(config, sources);
    writeFileSync(join(secretsDir, 'openai-key', 'apiKey'), '\n');
    const emptied = fingerprintNow(config, sources);
    rmSync(join(secretsDir, 'openai-key', 'apiKey'));
    assert.equal(fingerprintNow(config, sources), emptied, 'empty counts as missing');
    assert.equal(new Set([before, changed, emptied]).size, 3);
  });

  it('is keyed: not the bare SHA-256 a guessed key could be checked against', () => {
    const secretsDir = keysDir('keyed', { 'openai-key': 'sk-guess', 'anthropic-key': 'sk-too' });
    const { config } = load(secretsDir);
    const bare = createHash('sha256');
    for (const [name, value] of [
      ['openai-key', 'sk-guess'],
      ['anthropic-key', 'sk-too'],
    ] as const) {
      bare.update(`${name}\0apiKey\0`).update(`${value.length}:${value}\0`);
    }
    const fingerprint = fingerprintOfConfig(config);
    assert.notEqual(fingerprint, bare.digest('base64'));
    assert.notEqual(fingerprint, createHash('sha256').update('sk-guess').digest('base64'));
  });
});
