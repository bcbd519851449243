// For the prompt-rules specs: one route with security.promptValidation on (an SSN block
// pattern, email masking, an IBAN block rule), a pipeline over any other config, a batch
// upload screened by it, and the assertion a refusal must meet.
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode, type RouterPort } from '@aigw/contracts/data-plane';
import { rewriteBatchInput } from '../batches/batch-jsonl';
import { screenBatchBody } from '../batches/batch-prompt-rules';
import { IngressPipeline } from '../ingress-pipeline';
import type { RedactionTally } from '../redaction/redactor';

export const SSN = '123-45-6789';
export const IBAN = 'GB82 WEST 1234 5698 7654 32';

function load(enabled: boolean): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends: [{name: p, provider: local, model: private}]
  security:
    promptValidation:
      enabled: ${enabled}
      blockPatterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b']
      redact: {detectors: [email, {name: iban, mode: block}]}
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('unused')),
  listModels: () => [],
};

/** A pipeline over the `private` model, its promptValidation on or off. */
export function promptRulesPipeline(enabled = true): IngressPipeline {
  return new IngressPipeline(() => load(enabled), router, {});
}

/** A pipeline over the routes of `yaml`, whose upstreams it never calls. */
export function pipelineOver(yaml: string): IngressPipeline {
  const parsed = parseGatewayConfig(yaml, { env: {} });
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const config = parsed.config;
  return new IngressPipeline(() => config, router, {});
}

/** A batch file's `text` through the upload's rewrite, each line screened by `pipeline`'s rules. */
export function screenedUpload(
  pipeline: IngressPipeline,
  text: string,
  model: string,
  upstream: string,
  tally: RedactionTally = new Map(),
): string {
  return rewriteBatchInput(text, model, upstream, (url, body) =>
    screenBatchBody(url, body, (operation, read) =>
      pipeline.screenPrompt(model, operation, read, tally),
    ),
  );
}

/** PromptBlocked (a 400) naming `rule` and `param`, never the text it matched. */
export function blockedBy(rule: RegExp, param: string, secret: string) {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.equal(error.code, DataPlaneErrorCode.PromptBlocked);
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, rule);
    assert.equal(error.param, param);
    assert.ok(!error.message.includes(secret), error.message);
    return true;
  };
}
