// A wildcard Vertex backend puts the client's model name in the URL: a name with a lone
// surrogate has no UTF-8 to encode and is the client's invalid model, not a 500.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { isDataPlaneError } from '@aigw/testing/fake-provider';
import { vertexModelUrl } from './vertex-urls';

describe('vertexModelUrl', () => {
  const placement = { project: 'p', location: 'us-central1' };

  it('refuses a model name with a lone surrogate as an invalid model', () => {
    assert.throws(
      () =>
        vertexModelUrl(placement, { publisher: 'google', id: 'gemini-\ud800' }, 'generateContent'),
      (error) =>
        isDataPlaneError(DataPlaneErrorCode.InvalidRequest)(error) &&
        (error as { param?: string }).param === 'model',
    );
  });

  it("keeps Claude's @ version suffix and encodes the rest", () => {
    const url = vertexModelUrl(
      placement,
      { publisher: 'anthropic', id: 'claude-sonnet-4-5@20250929' },
      'rawPredict',
    );
    assert.match(url, /\/publishers\/anthropic\/models\/claude-sonnet-4-5@20250929:rawPredict$/);
  });
});
