import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { heldObjectUrl } from './held-object-upstream';

describe('Files and Batch API URLs', () => {
  it("puts OpenAI's under its base URL", () => {
    assert.equal(
      heldObjectUrl({ provider: 'openai' }, '/files'),
      'https://api.openai.com/v1/files',
    );
    assert.equal(
      heldObjectUrl({ provider: 'openai', baseUrl: 'http://fake:8080/v1/' }, '/batches/b1/cancel'),
      'http://fake:8080/v1/batches/b1/cancel',
    );
  });

  it("puts Azure OpenAI's under /openai with the api-version, or /openai/v1 for the v1 API", () => {
    const resource = 'https://res.openai.azure.com';
    assert.equal(
      heldObjectUrl({ provider: 'azure', baseUrl: resource }, '/files', {}),
      `${resource}/openai/files?api-version=2024-10-21`,
    );
    assert.equal(
      heldObjectUrl(
        { provider: 'azure', baseUrl: `${resource}/openai?api-version=2025-04-01-preview` },
        '/batches',
        {},
      ),
      `${resource}/openai/batches?api-version=2025-04-01-preview`,
    );
    assert.equal(
      heldObjectUrl({ provider: 'azure', baseUrl: resource }, '/files/f1/content', {
        AZURE_OPENAI_API_VERSION: 'v1',
      }),
      `${resource}/openai/v1/files/f1/content`,
    );
    assert.equal(
      heldObjectUrl(
        { provider: 'azure', baseUrl: `${resource}/openai/v1?api-version=v1` },
        '/batches',
        {},
      ),
      `${resource}/openai/v1/batches`,
    );
    assert.throws(() => heldObjectUrl({ provider: 'azure' }, '/files', {}), /needs baseUrl/);
  });
});
