// The gateway logs every inference, warning and note of a load, and its logger masks
// credential-shaped text. A note holds no secret, so masking must leave it whole: a note
// that looks like a header with its value reached the log as "…Authorization: [REDACTED]".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { redactString } from '@aigw/observability';
import { parseGatewayConfig } from './load-config';

const QUICKSTART = join(__dirname, '../../../../config/quickstart.yaml');

// One backend of each provider whose key header the loader picks itself.
const EVERY_DEFAULT_HEADER = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: r
spec:
  backends:
    - { name: o, provider: openai, model: m1, auth: { apiKeyRef: { name: k } } }
    - { name: a, provider: anthropic, model: m2, auth: { apiKeyRef: { name: k } } }
    - { name: z, provider: azure, baseUrl: 'https://x.openai.azure.com', model: m3, auth: { apiKeyRef: { name: k } } }
    - { name: g, provider: google-gemini, model: m4, auth: { apiKeyRef: { name: k } } }
    - { name: c, provider: openai, model: m5, auth: { apiKeyRef: { name: k }, headerName: Authorization } }
`;

function notesOf(text: string): string[] {
  const result = parseGatewayConfig(text, { missingSecrets: 'warn', env: {} });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
  return [...result.inferences, ...result.warnings, ...result.notes];
}

describe('config notes as the gateway logs them', () => {
  it('the quickstart config says nothing the log would mask', () => {
    const notes = notesOf(readFileSync(QUICKSTART, 'utf8'));
    assert.ok(notes.length > 0);
    for (const note of notes) assert.equal(redactString(note), note);
  });

  it('names the key header and its prefix in words the log keeps, for every provider', () => {
    const notes = notesOf(EVERY_DEFAULT_HEADER).filter((n) => n.includes('API key sent'));
    assert.equal(notes.length, 5);
    for (const note of notes) assert.equal(redactString(note), note);
    assert.match(notes[0], /backend "o": API key sent in the Authorization header after "Bearer "/);
    assert.match(
      notes[1],
      /backend "a": API key sent in the x-api-key header \(anthropic default\)/,
    );
    assert.match(notes[4], /backend "c": API key sent in the Authorization header after "Bearer "/);
  });
});
