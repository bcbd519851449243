import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shownBatch } from './batch-billing';
import { heldOnBatchRoute } from './testing/held-record';

// A batch the backend failed (OpenAI's enqueued-token limit is the usual reason) shows its
// owner why, in the backend's words: naming the model the owner uploaded for, not the one
// the backend runs, nor the backend's organization.
describe('a failed batch as its owner sees it', () => {
  it("names the owner's model and hides the organization in each error", () => {
    const record = heldOnBatchRoute('batch', 'batch_abc', 1);
    const shown = shownBatch(
      { ...record, upstreamModel: 'gpt-4o-mini' },
      {
        id: 'batch_abc',
        object: 'batch',
        status: 'failed',
        model: 'gpt-4o-mini-2024-07-18',
        errors: {
          object: 'list',
          data: [
            {
              code: 'token_limit_exceeded',
              message:
                'Enqueued token limit reached for gpt-4o-mini in organization ' +
                'org-AbCdEf0123456789xyzXYZ12. Limit: 90,000 enqueued tokens. Please try ' +
                'again once some in_progress batches have been completed.',
              param: null,
              line: null,
            },
          ],
        },
      },
    );
    assert.equal(shown.model, 'gpt-batch');
    assert.deepEqual(shown.errors, {
      object: 'list',
      data: [
        {
          code: 'token_limit_exceeded',
          message:
            'Enqueued token limit reached for gpt-batch in organization [REDACTED]. Limit: ' +
            '90,000 enqueued tokens. Please try again once some in_progress batches have ' +
            'been completed.',
          param: null,
          line: null,
        },
      ],
    });
  });

  it('shows a batch without errors as it came', () => {
    const record = heldOnBatchRoute('batch', 'batch_abc', 1);
    const shown = shownBatch(record, { id: 'batch_abc', status: 'completed', errors: null });
    assert.equal(shown.errors, null);
  });
});
