import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { AnthropicAdapter } from './anthropic.adapter';

// Anthropic refuses a stop sequence that is empty or only whitespace ('\n', a common
// OpenAI setting) with its own 400 naming `stop_sequences`, a field an OpenAI client never
// sent. The gateway cannot honour it by cutting the answer itself (the backend would go on
// and bill the text past the stop), so it refuses it first, naming the client's field.

describe('whitespace-only stop sequences to Claude', () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let target: UpstreamTarget;

  const invoke = (stop: unknown) =>
    adapter.invoke({
      request: gatewayChatRequest({ stop }),
      target,
      signal: new AbortController().signal,
    });

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  });
  after(() => upstream.stop());

  it('refuses them with a 400 naming stop and the limitation, calling no backend', async () => {
    for (const stop of ['\n', ['END', '\n\n'], [' \t'], ['']]) {
      upstream.reset();
      await assert.rejects(
        invoke(stop),
        (error: unknown) => {
          assert.ok(error instanceof DataPlaneError, String(error));
          assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
          assert.equal(error.param, 'stop');
          assert.match(error.message, /Claude/);
          assert.match(error.message, /whitespace/);
          // One line, the sequences written as JSON strings: no raw line break in a message.
          assert.doesNotMatch(error.message, /[\r\n]/);
          return true;
        },
        JSON.stringify(stop),
      );
      assert.equal(upstream.calls.length, 0, JSON.stringify(stop));
    }
  });

  it('sends stop sequences holding a visible character as given', async () => {
    upstream.reset();
    await invoke(['\nHuman:', ' END ']);
    assert.deepEqual(upstream.calls[0].body.stop_sequences, ['\nHuman:', ' END ']);
  });
});
