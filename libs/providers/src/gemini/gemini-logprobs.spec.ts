import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';
import { GeminiStreamTranslation } from './gemini-stream';

// Gemini returns log probabilities (responseLogprobs, logprobs: the top candidates at each
// step): asked for them, a Gemini backend answers with them rather than refusing the ask
// as a backend that cannot return them does.

/** "Yes" then "!" as Gemini's logprobsResult; "!" certain, its 0 left out as proto3 does. */
const RESULT = {
  topCandidates: [
    {
      candidates: [
        { token: 'Yes', tokenId: 1, logProbability: -0.25 },
        { token: 'No', tokenId: 2, logProbability: -1.5 },
      ],
    },
    { candidates: [{ token: '!', tokenId: 3 }] },
  ],
  chosenCandidates: [
    { token: 'Yes', tokenId: 1, logProbability: -0.25 },
    { token: '!', tokenId: 3 },
  ],
};

const CONTENT = [
  {
    token: 'Yes',
    logprob: -0.25,
    bytes: [89, 101, 115],
    top_logprobs: [
      { token: 'Yes', logprob: -0.25, bytes: [89, 101, 115] },
      { token: 'No', logprob: -1.5, bytes: [78, 111] },
    ],
  },
  { token: '!', logprob: 0, bytes: [33], top_logprobs: [{ token: '!', logprob: 0, bytes: [33] }] },
];

const USAGE = { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 };

describe('Gemini: log probabilities', () => {
  const { upstream, invoke } = fakeGeminiBackend();

  it('asks for them as responseLogprobs and logprobs, and answers them as the choice logprobs', async () => {
    upstream.next({
      kind: 'json',
      body: {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Yes!' }] },
            finishReason: 'STOP',
            logprobsResult: RESULT,
            avgLogprobs: -0.125,
          },
        ],
        usageMetadata: USAGE,
      },
    });
    const answer = await invoke(gatewayChatRequest({ logprobs: true, top_logprobs: 2 }));
    if (answer.kind !== 'json') return assert.fail('expected json');
    assert.deepEqual(upstream.calls[0].body.generationConfig, {
      responseLogprobs: true,
      logprobs: 2,
    });
    const [choice] = answer.body.choices as JsonObject[];
    assert.deepEqual(choice.logprobs, { content: CONTENT, refusal: null });
  });

  it('asks for the chosen tokens alone without top_logprobs', async () => {
    await invoke(gatewayChatRequest({ logprobs: true }));
    assert.deepEqual(upstream.calls[0].body.generationConfig, { responseLogprobs: true });
  });

  it("streams each event's logprobs on its chunk", () => {
    const translation = new GeminiStreamTranslation('gemini', 'gemini-2.5-flash');
    const event = (text: string, step: number, last: boolean) => ({
      event: undefined,
      id: undefined,
      data: JSON.stringify({
        candidates: [
          {
            content: { role: 'model', parts: [{ text }] },
            logprobsResult: {
              topCandidates: [RESULT.topCandidates[step]],
              chosenCandidates: [RESULT.chosenCandidates[step]],
            },
            ...(last ? { finishReason: 'STOP' } : {}),
          },
        ],
        ...(last ? { usageMetadata: USAGE } : {}),
      }),
    });
    const chunks = [
      ...translation.translate(event('Yes', 0, false)),
      ...translation.translate(event('!', 1, true)),
    ];
    const content = chunks.flatMap((chunk) =>
      (chunk.choices as JsonObject[]).flatMap(
        (choice) => ((choice.logprobs as JsonObject | null)?.content as unknown[]) ?? [],
      ),
    );
    assert.deepEqual(content, CONTENT);
  });
});
