import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { textWithoutBackendIdentity } from './backend-identity-text';

describe('textWithoutBackendIdentity', () => {
  it("hides the project number of Google's quota refusal, as its consumer and in its metadata", () => {
    // The Gemini API's 429 (generateContent, and a Files API upload over quota alike).
    const text =
      "Quota exceeded for quota metric 'Generate Content API requests per minute' and limit " +
      "'GenerateContent request limit per minute for a region' of service " +
      "'generativelanguage.googleapis.com' for consumer 'project_number:696498078762'. " +
      'metadata { key: "consumer" value: "projects/696498078762" }';
    const shown = textWithoutBackendIdentity(text, { sentModel: '', requestedModel: '' });
    assert.doesNotMatch(shown, /696498078762/);
    assert.match(shown, /for consumer 'project_number:\[REDACTED\]'\./);
    assert.match(shown, /value: "projects\/\[REDACTED\]"/);
  });

  it("hides the organization id of Groq's rate-limit and request-too-large refusals", () => {
    // Groq's 429 and 413 (tokens per minute) name the account's organization as org_<ULID>.
    const text =
      'Request too large for model `llama-3.3-70b-versatile` in organization ' +
      '`org_01kgg5588eftc8k70aes4864eb` service tier `on_demand` on tokens per minute (TPM): ' +
      'Limit 12000, Requested 14137, please reduce your message size and try again.';
    const shown = textWithoutBackendIdentity(text, { sentModel: '', requestedModel: '' });
    assert.doesNotMatch(shown, /01kgg5588eftc8k70aes4864eb/);
    assert.match(shown, /in organization `\[REDACTED\]` service tier/);
    // A ULID is 26 characters: a short word after org_ is no account's id.
    const word = 'set org_settings first';
    assert.equal(textWithoutBackendIdentity(word, { sentModel: '', requestedModel: '' }), word);
  });
});
