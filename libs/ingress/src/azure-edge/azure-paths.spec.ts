import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayEndpoint } from '@aigw/contracts';
import { endpointAt, methodsAllowedAt, unprefixedPath } from '../http/public-paths';
import { isMessagesPath } from '../anthropic/messages-errors';
import { deploymentCallAt, deploymentRoute, withoutAzurePrefix } from './azure-paths';

describe('Azure OpenAI deployment paths', () => {
  it('name the deployment and the OpenAI endpoint they stand for, any api-version', () => {
    const cases: [string, string, GatewayEndpoint][] = [
      [
        '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
        'gpt-4o',
        GatewayEndpoint.ChatCompletions,
      ],
      ['/openai/deployments/davinci/completions', 'davinci', GatewayEndpoint.Completions],
      [
        '/openai/deployments/embedder/embeddings?api-version=2025-04-01-preview',
        'embedder',
        GatewayEndpoint.Embeddings,
      ],
      [
        '/openai/deployments/whisper/audio/transcriptions?api-version=x',
        'whisper',
        GatewayEndpoint.AudioTranscriptions,
      ],
      ['/openai/deployments/w/audio/translations', 'w', GatewayEndpoint.AudioTranslations],
      ['/openai/deployments/tts/audio/speech', 'tts', GatewayEndpoint.AudioSpeech],
      ['/openai/deployments/img/images/generations', 'img', GatewayEndpoint.ImagesGenerations],
      ['/openai/deployments/img/images/edits', 'img', GatewayEndpoint.ImagesEdits],
      // The AzureOpenAI client escapes a model id's slash as it builds the path.
      [
        '/openai/deployments/meta-llama%2FLlama-3-8B/chat/completions',
        'meta-llama/Llama-3-8B',
        GatewayEndpoint.ChatCompletions,
      ],
    ];
    for (const [url, deployment, endpoint] of cases) {
      assert.deepEqual(deploymentCallAt(url), { deployment, endpoint }, url);
      assert.equal(endpointAt(url), endpoint, url);
      assert.deepEqual(methodsAllowedAt(url), ['POST'], url);
    }
  });

  it('are no call without a deployment, at an unserved operation, or outside /openai', () => {
    for (const url of [
      '/openai/deployments//chat/completions',
      '/openai/deployments/gpt-4o',
      '/openai/deployments/gpt-4o/',
      '/openai/deployments/gpt-4o/chat/completions/more',
      '/openai/deployments/gpt-4o/images/variations',
      '/openai/deployments/gpt-4o/responses',
      '/deployments/gpt-4o/chat/completions',
      '/v1/openai/deployments/gpt-4o/chat/completions',
    ]) {
      assert.equal(deploymentCallAt(url), undefined, url);
      assert.equal(endpointAt(url), undefined, url);
      assert.equal(methodsAllowedAt(url), undefined, url);
    }
  });

  it('serve a batch creation (POST) but count it as no model call', () => {
    const url = '/openai/deployments/gpt-4o/batches?api-version=2024-10-21';
    assert.equal(deploymentCallAt(url), undefined);
    assert.equal(endpointAt(url), undefined);
    assert.deepEqual(methodsAllowedAt(url), ['POST']);
  });

  it('keep a malformed escape in the deployment as sent', () => {
    assert.deepEqual(deploymentCallAt('/openai/deployments/bad%ZZ/embeddings'), {
      deployment: 'bad%ZZ',
      endpoint: GatewayEndpoint.Embeddings,
    });
  });

  it('are registered as patterns the served-path table accepts (POST only)', () => {
    const route = deploymentRoute('/chat/completions');
    assert.equal(route, '/openai/deployments/:deployment/chat/completions');
    assert.deepEqual(methodsAllowedAt(route), ['POST']);
  });
});

describe('Azure OpenAI prefixes', () => {
  it('map /openai/v1/... and /openai/... onto the /v1 paths', () => {
    const cases: [string, string][] = [
      ['/openai/v1/chat/completions', '/chat/completions'],
      ['/openai/v1/embeddings?api-version=v1', '/embeddings'],
      ['/openai/v1/responses/resp_1', '/responses/resp_1'],
      ['/openai/v1/models', '/models'],
      ['/openai/responses?api-version=2025-04-01-preview', '/responses'],
      ['/openai/files/file-1/content', '/files/file-1/content'],
      ['/openai/v1', ''],
    ];
    for (const [url, path] of cases) assert.equal(unprefixedPath(url), path, url);
  });

  it('count /openai/v1 calls under the OpenAI endpoint and answer their methods', () => {
    assert.equal(endpointAt('/openai/v1/chat/completions'), GatewayEndpoint.ChatCompletions);
    assert.equal(endpointAt('/openai/v1/embeddings?api-version=v1'), GatewayEndpoint.Embeddings);
    assert.equal(endpointAt('/openai/responses'), GatewayEndpoint.Responses);
    assert.deepEqual(methodsAllowedAt('/openai/v1/chat/completions'), ['POST']);
    assert.deepEqual(methodsAllowedAt('/openai/v1/models'), ['GET', 'HEAD']);
    assert.deepEqual(methodsAllowedAt('/openai/v1/files/file-1'), ['GET', 'DELETE']);
  });

  it('strip only a whole prefix segment', () => {
    assert.equal(withoutAzurePrefix('/openaiv1/chat/completions'), undefined);
    assert.equal(withoutAzurePrefix('/openai-proxy/chat/completions'), undefined);
    assert.equal(withoutAzurePrefix('/openai/v10/chat/completions'), '/v10/chat/completions');
    assert.equal(endpointAt('/openai/v10/chat/completions'), undefined);
    assert.equal(endpointAt('/openai-proxy/chat/completions'), undefined);
    // Not an Anthropic path either: its errors stay OpenAI's.
    assert.equal(isMessagesPath('/openai/deployments/messages/chat/completions'), false);
  });
});
