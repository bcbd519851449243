// Prompt rules on token-id input: an embeddings input or a completion's prompt sent as
// token ids is decoded with the receiving model's tokenizer and read as its text would be;
// ids no known tokenizer reads, on a route with rules, are refused, as are ids out of the
// vocabulary; a route without rules passes ids as they came.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';
import { IBAN, SSN, blockedBy, pipelineOver, screenedUpload } from './prompt-rules-fixture';
import { tokenIdLists } from './token-id-prompts';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { encode } = require('gpt-tokenizer/encoding/cl100k_base') as {
  encode: (text: string) => number[];
};

const UP = 'baseUrl: "http://127.0.0.1:9/v1"';
const pipeline = pipelineOver(
  `kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends:
  - {name: embed, provider: openai, ${UP}, model: text-embedding-3-small, modelNameOverride: embed}
  - {name: instruct, provider: openai, ${UP}, model: gpt-3.5-turbo-instruct, modelNameOverride: instruct}
  - {name: self, provider: vllm, ${UP}, model: my-embed, modelNameOverride: self-hosted}
  - {name: mixed-a, provider: openai, ${UP}, model: text-embedding-3-large, modelNameOverride: mixed}
  - {name: mixed-b, provider: vllm, ${UP}, model: bge-large, modelNameOverride: mixed}
  - {name: first, provider: openai, ${UP}, model: text-embedding-ada-002, modelNameOverride: falls-back}
  retry:
    fallbackStrategy: cheaperModel
    fallbackOrder: [falls-back, self-hosted]
  security:
    promptValidation:
      blockPatterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b']
      redact: {detectors: [email, {name: iban, mode: block}]}
---
kind: AIGatewayRoute
metadata: {name: masking}
spec:
  backends: [{name: m, provider: openai, ${UP}, model: text-embedding-3-small, modelNameOverride: masked-embed}]
  security:
    promptValidation:
      redact: {detectors: [email]}
---
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: vllm, ${UP}, model: my-embed, modelNameOverride: open-embed}]
`,
);

const call = (operation: Operation, model: string, fields: JsonObject) =>
  pipeline.prepare(operation, { model, ...fields }, {}, 'r') as GatewayRequest;

const BLOCK_PATTERN =
  /^The prompt was blocked by rule security\.promptValidation\.blockPatterns\[0\]$/;
const SSN_IDS = encode(`my ssn is ${SSN}`);
const CLEAN_IDS = encode('a clean text');

/** InvalidRequest (a 400) naming `param`, its message matching `message`. */
function invalid(message: RegExp, param: string) {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, message);
    assert.equal(error.param, param);
    return true;
  };
}

const uncheckable = (model: string, field = 'input') =>
  invalid(
    new RegExp(
      `^'${field}' was sent as token ids, which cannot be checked against the prompt rules for model "${model}" .*; send '${field}' as text$`,
    ),
    field,
  );

describe('tokenIdLists', () => {
  it('finds the ids of a field, a list of them or each list of a list, and none in text', () => {
    assert.deepEqual(tokenIdLists([1, 2]), [[1, 2]]);
    assert.deepEqual(tokenIdLists([[1], [2, 3]]), [[1], [2, 3]]);
    assert.deepEqual(tokenIdLists(['a', 4, [5]]), [[4], [5]]);
    for (const value of ['text', ['a', 'b'], [], [[]], undefined, { text: 'a' }]) {
      assert.equal(tokenIdLists(value), undefined, JSON.stringify(value));
    }
  });
});

describe('blockPatterns on token ids, decoded by the model’s tokenizer', () => {
  it('refuses an SSN sent as the ids of an embeddings input, flat or one list among several', () => {
    for (const input of [SSN_IDS, [CLEAN_IDS, SSN_IDS]]) {
      assert.throws(
        () => call('embeddings', 'embed', { input }),
        blockedBy(BLOCK_PATTERN, 'input', SSN),
      );
    }
  });

  it("refuses it in a completion's prompt, and in a decoy field beside it", () => {
    assert.throws(
      () => call('completions', 'instruct', { prompt: SSN_IDS }),
      blockedBy(BLOCK_PATTERN, 'prompt', SSN),
    );
    assert.throws(
      () => call('completions', 'instruct', { prompt: 'hi', input: [SSN_IDS] }),
      blockedBy(BLOCK_PATTERN, 'input', SSN),
    );
  });

  it('passes clean ids on as they came', () => {
    assert.deepEqual(call('embeddings', 'embed', { input: CLEAN_IDS }).body.input, CLEAN_IDS);
    const lists = [CLEAN_IDS, encode('another one')];
    assert.deepEqual(call('embeddings', 'embed', { input: lists }).body.input, lists);
    assert.deepEqual(call('completions', 'instruct', { prompt: CLEAN_IDS }).body.prompt, CLEAN_IDS);
  });
});

describe('redaction on token ids', () => {
  it('refuses a block rule’s match as it refuses one in text', () => {
    const rule = /^The prompt was blocked by rule security\.promptValidation\.redact \(iban\)$/;
    assert.throws(
      () => call('embeddings', 'embed', { input: encode(`pay ${IBAN}`) }),
      blockedBy(rule, 'input', IBAN),
    );
  });

  it('refuses text a mask rule would change, naming the rule: ids cannot be masked', () => {
    const email = 'jane@example.com';
    const rule =
      /^The prompt was blocked by rule security\.promptValidation\.redact \(email\): 'input' was sent as token ids, which cannot be masked; send it as text$/;
    for (const model of ['embed', 'masked-embed']) {
      assert.throws(
        () => call('embeddings', model, { input: encode(`mail ${email}`) }),
        blockedBy(rule, 'input', email),
        model,
      );
    }
    // The same text as a string is masked and served.
    const masked = call('embeddings', 'masked-embed', { input: `mail ${email}` });
    const redacted = pipeline.redact(masked, () => undefined);
    assert.equal(redacted.body.input, 'mail [REDACTED:email]');
  });
});

describe('token ids no known tokenizer reads, or outside its vocabulary', () => {
  it('refuses ids for a model whose tokenizer is unknown (a self-hosted one), text served', () => {
    assert.throws(
      () => call('embeddings', 'self-hosted', { input: CLEAN_IDS }),
      uncheckable('self-hosted'),
    );
    assert.equal(call('embeddings', 'self-hosted', { input: 'clean' }).body.input, 'clean');
  });

  it('refuses ids when any backend that may receive them, fallbacks too, is unknown', () => {
    for (const model of ['mixed', 'falls-back']) {
      assert.throws(() => call('embeddings', model, { input: CLEAN_IDS }), uncheckable(model));
    }
  });

  it('refuses an id the vocabulary lacks with a 400 naming the field, not a crash', () => {
    for (const bad of [100261, 5_000_000, -3]) {
      assert.throws(
        () => call('embeddings', 'embed', { input: [CLEAN_IDS, [...CLEAN_IDS, bad]] }),
        invalid(
          new RegExp(
            `^'input' holds ${bad}, which is not a token id of the tokenizer of model "embed"$`,
          ),
          'input',
        ),
      );
    }
    assert.throws(
      () => call('completions', 'instruct', { prompt: [1, 200_000] }),
      invalid(/^'prompt' holds 200000, which is not a token id/, 'prompt'),
    );
  });

  it('passes ids as they came on a route without prompt rules, unread', () => {
    const ids = [...SSN_IDS, 5_000_000];
    assert.deepEqual(call('embeddings', 'open-embed', { input: ids }).body.input, ids);
  });
});

describe('token ids in a batch file', () => {
  const upload = (model: string, upstream: string, url: string, body: JsonObject) =>
    screenedUpload(
      pipeline,
      JSON.stringify({ custom_id: 'a', method: 'POST', url, body: { model, ...body } }),
      model,
      upstream,
    );

  it('refuses a line whose ids decode to blocked text, as a single call is refused', () => {
    const up = 'text-embedding-3-small';
    assert.throws(
      () => upload('embed', up, '/v1/embeddings', { input: SSN_IDS }),
      (error: unknown) => error instanceof Error && /blockPatterns\[0\]/.test(error.message),
    );
    assert.throws(
      () => upload('instruct', 'gpt-3.5-turbo-instruct', '/v1/completions', { prompt: SSN_IDS }),
      (error: unknown) => error instanceof Error && /blockPatterns\[0\]/.test(error.message),
    );
    const served = upload('embed', up, '/v1/embeddings', { input: CLEAN_IDS });
    assert.deepEqual((JSON.parse(served) as { body: JsonObject }).body.input, CLEAN_IDS);
  });

  it('refuses a line of ids for a model whose tokenizer is unknown', () => {
    assert.throws(
      () => upload('self-hosted', 'my-embed', '/v1/embeddings', { input: CLEAN_IDS }),
      (error: unknown) => error instanceof Error && /cannot be checked/.test(error.message),
    );
  });
});
