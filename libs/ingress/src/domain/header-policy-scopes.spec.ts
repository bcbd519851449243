import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardableHeaders } from './header-policy';

describe('forwardableHeaders: scopes of our key and the client network never reach a provider', () => {
  it("drops Google's quota project, which bills the gateway's calls to another project", () => {
    // OpenAI-Organization's counterpart: with our Vertex token it moves quota and billing
    // to any project our service account may use.
    assert.deepEqual(
      forwardableHeaders({ 'x-goog-user-project': 'someone-elses-project' }, []),
      {},
    );
  });

  it('drops the client address headers a proxy in front of the gateway adds, as x-forwarded-* are', () => {
    const forwarded = forwardableHeaders(
      {
        forwarded: 'for=10.1.2.3;proto=https;by=10.0.0.1',
        'x-real-ip': '10.1.2.3',
        'proxy-connection': 'keep-alive',
        'x-tag': 'kept',
      },
      [],
    );
    assert.deepEqual(forwarded, { 'x-tag': 'kept' });
  });
});
