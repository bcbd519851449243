import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { AnthropicAdapter } from './anthropic.adapter';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe("OpenAI's user as Anthropic's metadata.user_id", () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let target: UpstreamTarget;

  async function sentUserId(user: string | JsonObject): Promise<unknown> {
    upstream.reset();
    await adapter.invoke({
      request: gatewayChatRequest(typeof user === 'string' ? { user } : user),
      target,
      signal: new AbortController().signal,
    });
    const metadata = upstream.calls[0].body.metadata as { user_id?: unknown } | undefined;
    return metadata?.user_id;
  }

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('sends an email address, which Anthropic refuses there, as its SHA-256', async () => {
    assert.equal(await sentUserId('alice@example.com'), sha256('alice@example.com'));
    // The same user is the same id on every call.
    assert.equal(await sentUserId('alice@example.com'), sha256('alice@example.com'));
  });

  it('sends a phone number as its SHA-256 too', async () => {
    for (const phone of ['+1 (415) 555-0100', '0612345678']) {
      assert.equal(await sentUserId(phone), sha256(phone), phone);
    }
  });

  it('sends an opaque id as given', async () => {
    for (const id of [
      'alice',
      'c0ffee00-1234-4abc-9def-0123456789ab',
      'user_3f2a_account_9b1c_session_77e0',
      '42',
    ]) {
      assert.equal(await sentUserId(id), id, id);
    }
  });

  it("sends OpenAI's safety_identifier, the user field's successor for abuse detection", async () => {
    assert.equal(await sentUserId({ safety_identifier: 'user-7' }), 'user-7');
    // Meant for exactly what Anthropic's field is: it wins over user.
    assert.equal(await sentUserId({ safety_identifier: 'user-7', user: 'alice' }), 'user-7');
    const email = 'bob@example.com';
    assert.equal(await sentUserId({ safety_identifier: email }), sha256(email));
  });
});
