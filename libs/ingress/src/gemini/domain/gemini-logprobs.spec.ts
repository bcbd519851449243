import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject, type TokenUsage } from '@aigw/contracts/data-plane';
import { translateGeminiRequest } from './gemini-request';
import { toGeminiResponse } from './gemini-response';
import { GeminiStreamTranslator } from './gemini-stream';

// responseLogprobs was dropped without a word: a Gemini client asking for log
// probabilities got an answer without them on every backend, even an OpenAI one that
// returns them. It is OpenAI's logprobs now (a backend that cannot answer it refuses it,
// naming logprobs), and the answer's logprobs come back as Gemini's logprobsResult.

const call = { model: 'my-virtual', stream: false };
const facts = { model: 'my-virtual', stream: false, includeThoughts: false };
const usage: TokenUsage = {
  inputTokens: 5,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported',
};

function chatOf(generationConfig: JsonObject): JsonObject {
  return translateGeminiRequest({ contents: [{ parts: [{ text: 'x' }] }], generationConfig }, call)
    .chat;
}

/** OpenAI's logprobs of the tokens "Yes" and "!", each with its top alternatives. */
const LOGPROBS = {
  content: [
    {
      token: 'Yes',
      logprob: -0.5,
      bytes: [89, 101, 115],
      top_logprobs: [
        { token: 'Yes', logprob: -0.5, bytes: [89, 101, 115] },
        { token: 'No', logprob: -1, bytes: [78, 111] },
      ],
    },
    { token: '!', logprob: -1.5, bytes: [33], top_logprobs: [{ token: '!', logprob: -1.5 }] },
  ],
  refusal: null,
};

const RESULT = {
  topCandidates: [
    {
      candidates: [
        { token: 'Yes', logProbability: -0.5 },
        { token: 'No', logProbability: -1 },
      ],
    },
    { candidates: [{ token: '!', logProbability: -1.5 }] },
  ],
  chosenCandidates: [
    { token: 'Yes', logProbability: -0.5 },
    { token: '!', logProbability: -1.5 },
  ],
};

describe('Gemini log probabilities', () => {
  it('asks for them as logprobs, with top_logprobs for the top candidates', () => {
    const asked = chatOf({ responseLogprobs: true, logprobs: 2 });
    assert.equal(asked.logprobs, true);
    assert.equal(asked.top_logprobs, 2);
    const chosenOnly = chatOf({ responseLogprobs: true });
    assert.equal(chosenOnly.logprobs, true);
    assert.equal(chosenOnly.top_logprobs, undefined);
    // A number of top candidates without responseLogprobs asks for nothing.
    const unasked = chatOf({ logprobs: 2, responseLogprobs: false });
    assert.equal(unasked.logprobs, undefined);
    assert.equal(unasked.top_logprobs, undefined);
  });

  it('refuses a malformed ask naming its field', () => {
    for (const [config, field] of [
      [{ responseLogprobs: 'yes' }, 'response_logprobs'],
      [{ responseLogprobs: true, logprobs: 21 }, 'logprobs'],
      [{ responseLogprobs: true, logprobs: 1.5 }, 'logprobs'],
    ] as const) {
      assert.throws(
        () => chatOf(config),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          error.message.includes(`generation_config.${field}`),
        JSON.stringify(config),
      );
    }
  });

  it("answers a choice's logprobs as the candidate's logprobsResult and avgLogprobs", () => {
    const answer = toGeminiResponse(
      {
        id: 'chatcmpl-1',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Yes!' },
            logprobs: LOGPROBS,
            finish_reason: 'stop',
          },
        ],
      },
      usage,
      facts,
      'req-1',
    );
    const [candidate] = answer.candidates as JsonObject[];
    assert.deepEqual(candidate.logprobsResult, RESULT);
    assert.equal(candidate.avgLogprobs, -1);
  });

  it("streams each chunk's logprobs on its event, and avgLogprobs on the last", () => {
    const translator = new GeminiStreamTranslator({ ...facts, stream: true }, 'req-1');
    const chunk = (content: string, entry: JsonObject, finish: string | null = null) => ({
      id: 'chatcmpl-1',
      choices: [
        { index: 0, delta: { content }, logprobs: { content: [entry] }, finish_reason: finish },
      ],
    });
    const events = [
      ...translator.push(chunk('Yes', LOGPROBS.content[0])),
      ...translator.push(chunk('!', LOGPROBS.content[1], 'stop')),
    ];
    const results = events.map(
      (event) => (event.candidates as JsonObject[])[0].logprobsResult as JsonObject,
    );
    assert.deepEqual(results, [
      { topCandidates: [RESULT.topCandidates[0]], chosenCandidates: [RESULT.chosenCandidates[0]] },
      { topCandidates: [RESULT.topCandidates[1]], chosenCandidates: [RESULT.chosenCandidates[1]] },
    ]);
    const [closing] = translator.finish(usage);
    assert.equal((closing.candidates as JsonObject[])[0].avgLogprobs, -1);
  });

  it('leaves them out where the answer has none', () => {
    const answer = toGeminiResponse(
      {
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'x' },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
      },
      usage,
      facts,
      'req-1',
    );
    const [candidate] = answer.candidates as JsonObject[];
    assert.equal('logprobsResult' in candidate, false);
    assert.equal('avgLogprobs' in candidate, false);
  });
});
