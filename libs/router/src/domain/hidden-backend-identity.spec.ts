import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { chatRequest } from '../testing/scripted-providers';
import { textWithoutCalledBackend, withoutBackendIdentity } from './hidden-backend-identity';

/** A call for `requested` that the backend ran as `model`. */
function called(requested: string, model: string, target: Partial<UpstreamTarget> = {}) {
  return {
    request: chatRequest({ requestedModel: requested }),
    target: {
      backendName: 'b',
      provider: 'openai',
      model,
      requestTimeoutMs: 1000,
      firstByteTimeoutMs: 1000,
      ...target,
    },
  };
}

describe('textWithoutCalledBackend', () => {
  it("names OpenAI's rate-limited model as the client asked for it, without the organization", () => {
    const text =
      'Rate limit reached for gpt-4o-mini in organization org-AbCdEf0123456789xyzXYZ12 on ' +
      'tokens per min (TPM): Limit 200000, Used 199000, Requested 2000.';
    assert.equal(
      textWithoutCalledBackend(text, called('smart', 'gpt-4o-mini')),
      'Rate limit reached for smart in organization [REDACTED] on tokens per min (TPM): ' +
        'Limit 200000, Used 199000, Requested 2000.',
    );
  });

  it('renames a dated snapshot, a quoted name and one ending a sentence, and hides a project', () => {
    const text =
      'The model `gpt-4o-mini-2024-07-18` does not exist in project proj_AbCdEf0123456789. ' +
      'Try gpt-4o-mini.';
    assert.equal(
      textWithoutCalledBackend(text, called('smart', 'gpt-4o-mini')),
      'The model `smart` does not exist in project [REDACTED]. Try smart.',
    );
  });

  it("renames Anthropic's and Gemini's model, hides Anthropic's organization id", () => {
    assert.equal(
      textWithoutCalledBackend(
        'model: claude-3-opus-20240229; This request would exceed the rate limit for your ' +
          'organization (7f3c2a1e-0b9d-4c8e-9f6a-1d2e3f4a5b6c) of 40,000 input tokens per minute.',
        called('gpt-4', 'claude-3-opus'),
      ),
      'model: gpt-4; This request would exceed the rate limit for your organization ([REDACTED]) ' +
        'of 40,000 input tokens per minute.',
    );
    assert.equal(
      textWithoutCalledBackend(
        'models/gemini-1.5-pro is not found for API version v1beta',
        called('gpt-4', 'gemini-1.5-pro'),
      ),
      'models/gpt-4 is not found for API version v1beta',
    );
  });

  it("hides the backend's host, Vertex project, AWS account and Google project number", () => {
    const text =
      'POST https://acme-prod.openai.azure.com/openai failed; Permission denied on project ' +
      'acme-ml-prod (projects/123456789012); User arn:aws:iam::123456789012:user/gw';
    assert.equal(
      textWithoutCalledBackend(
        text,
        called('gpt-4', 'gpt-4', {
          baseUrl: 'https://acme-prod.openai.azure.com',
          vertex: { project: 'acme-ml-prod', location: 'us-central1' },
        }),
      ),
      'POST https://[REDACTED]/openai failed; Permission denied on project [REDACTED] ' +
        '(projects/[REDACTED]); User arn:aws:iam::[REDACTED]:user/gw',
    );
  });

  it('leaves other models, words and the client-facing name alone', () => {
    const text = 'gpt-4o-mini-tts and xgpt-4o-mini are not gpt-4o; org-chart; $& kept';
    assert.equal(textWithoutCalledBackend(text, called('gpt-4o-mini', 'gpt-4o-mini')), text);
    assert.equal(
      textWithoutCalledBackend('claude-3-opus is overloaded', called('a$&b', 'claude-3-opus')),
      'a$&b is overloaded',
    );
  });
});

describe('withoutBackendIdentity', () => {
  it('rewrites the message of the error itself, keeping its code, status and fields', () => {
    const error = new DataPlaneError(
      DataPlaneErrorCode.UpstreamRejected,
      'backend "b" answered 400: claude-3-opus refuses this',
      { upstreamStatus: 400, upstreamCode: 'invalid_request_error', param: 'messages' },
    );
    assert.equal(withoutBackendIdentity(error, called('gpt-4', 'claude-3-opus')), error);
    assert.equal(error.message, 'backend "b" answered 400: gpt-4 refuses this');
    assert.equal(error.upstreamStatus, 400);
    assert.equal(error.param, 'messages');
    const other = new Error('claude-3-opus');
    assert.equal(
      withoutBackendIdentity(other, called('gpt-4', 'claude-3-opus')).message,
      'claude-3-opus',
    );
  });
});
