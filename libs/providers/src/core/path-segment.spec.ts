import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import {
  FakeBedrockUpstream,
  gatewayChatRequest,
  isDataPlaneError,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { azureDeploymentUrl } from '../azure/azure-urls';
import { BedrockAdapter } from '../bedrock/bedrock.adapter';

// A wildcard backend sends the client's model name as it came: a name of dots alone,
// encoded or not, is a dot-segment to a URL parser and would call another path.
const DOT_NAMES = ['.', '..'];

describe('a model name that is only dots never becomes a path of the backend', () => {
  for (const name of DOT_NAMES) {
    it(`refuses Azure deployment ${JSON.stringify(name)} as an invalid model`, () => {
      assert.throws(
        () => azureDeploymentUrl('https://res.openai.azure.com', name, 'chat', {}),
        (error) =>
          isDataPlaneError(DataPlaneErrorCode.InvalidRequest)(error) &&
          (error as { param?: string }).param === 'model',
      );
    });
  }

  it('keeps an Azure deployment with dots, slashes or a query inside its own segment', () => {
    const url = new URL(azureDeploymentUrl('https://res.openai.azure.com', '../x?y#z', 'chat', {}));
    assert.equal(url.pathname, '/openai/deployments/..%2Fx%3Fy%23z/chat/completions');
    assert.equal(url.search, '?api-version=2024-10-21');
  });

  describe('Bedrock', () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLETEST', secretAccessKey: 'secret-example-key' };
    const upstream = new FakeBedrockUpstream(credentials);
    const adapter = new BedrockAdapter(undefined, credentials);
    const saved = process.env.AWS_REGION;
    before(async () => {
      process.env.AWS_REGION = 'us-east-1';
      await upstream.start();
    });
    after(async () => {
      if (saved === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = saved;
      await upstream.stop();
    });
    beforeEach(() => upstream.reset());

    for (const name of DOT_NAMES) {
      it(`refuses model ${JSON.stringify(name)} before calling Bedrock`, async () => {
        const target = upstreamTarget({
          provider: 'bedrock',
          model: name,
          baseUrl: upstream.baseUrl,
        });
        await assert.rejects(
          adapter.invoke({
            request: gatewayChatRequest(),
            target,
            signal: new AbortController().signal,
          }),
          isDataPlaneError(DataPlaneErrorCode.InvalidRequest),
        );
        assert.deepEqual(
          upstream.calls.map((call) => call.path),
          [],
        );
      });
    }
  });
});

describe('a model name with a lone surrogate (no UTF-8 to encode)', () => {
  it('is refused as an invalid model, not thrown as a URIError', () => {
    assert.throws(
      () => azureDeploymentUrl('https://res.openai.azure.com', 'gpt-\udfff', 'chat', {}),
      (error) =>
        isDataPlaneError(DataPlaneErrorCode.InvalidRequest)(error) &&
        (error as { param?: string }).param === 'model',
    );
  });
});
