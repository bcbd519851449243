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
});
