import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { upstreamTarget } from '@aigw/testing/fake-provider';
import { realtimeUrl } from './realtime-url';

const azure = (baseUrl: string | undefined, model = 'rt deployment') =>
  realtimeUrl(upstreamTarget({ provider: 'azure', model, baseUrl }));

describe('realtimeUrl', () => {
  it("reaches OpenAI's Realtime under its base URL, http as ws", () => {
    assert.equal(
      realtimeUrl(upstreamTarget({ provider: 'openai', model: 'gpt-realtime' })),
      'wss://api.openai.com/v1/realtime?model=gpt-realtime',
    );
    assert.equal(
      realtimeUrl(
        upstreamTarget({
          provider: 'openai',
          model: 'gpt-realtime',
          baseUrl: 'http://127.0.0.1:9/v1',
        }),
      ),
      'ws://127.0.0.1:9/v1/realtime?model=gpt-realtime',
    );
  });

  it("reaches Azure OpenAI's GA (v1) form without an api-version, the deployment as model", () => {
    const ga = 'wss://res.openai.azure.com/openai/v1/realtime?model=rt%20deployment';
    assert.equal(azure('https://res.openai.azure.com'), ga);
    assert.equal(azure('https://res.openai.azure.com/openai/'), ga);
    assert.equal(azure('https://res.openai.azure.com/openai/v1'), ga);
  });

  it('stays on the GA form when the baseUrl names a GA api-version, which pins chat calls only', () => {
    assert.equal(
      azure('https://res.openai.azure.com?api-version=2024-10-21'),
      'wss://res.openai.azure.com/openai/v1/realtime?model=rt%20deployment',
    );
    assert.equal(
      azure('http://127.0.0.1:9/openai/?api-version=2025-06-01', 'rt'),
      'ws://127.0.0.1:9/openai/v1/realtime?model=rt',
    );
  });

  it('reaches the dated preview form when the baseUrl names a preview api-version, the deployment named', () => {
    const preview =
      'wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=rt+deployment';
    assert.equal(azure('https://res.openai.azure.com?api-version=2025-04-01-preview'), preview);
    assert.equal(
      azure('https://res.openai.azure.com/openai?api-version=2025-04-01-preview'),
      preview,
    );
    assert.equal(
      azure('http://127.0.0.1:9/?api-version=2024-10-01-preview', 'rt'),
      'ws://127.0.0.1:9/openai/realtime?api-version=2024-10-01-preview&deployment=rt',
    );
  });

  it('refuses an Azure backend without its resource endpoint', () => {
    assert.throws(() => azure(undefined), /needs baseUrl/);
  });
});
