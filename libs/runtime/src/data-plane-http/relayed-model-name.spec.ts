// A JSON answer whose body names the client's model (a wildcard backend runs whatever name
// the client sent) crosses the router with that name in a header, %-encoded. A name holding
// a lone surrogate cannot be %-encoded: the answer must still cross, the name as it was.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonAnswer } from '@aigw/contracts/data-plane';
import { BODY_HEADER, envelopeWithBodyText, jsonAnswerMessage } from './relayed-json-body';
import { servedBy, usage } from '../testing/wire-call-fixtures';

describe('jsonAnswerMessage: the model name beside the body', () => {
  for (const model of ['x\ud800', 'gemini-\udc00', 'modèle 😀']) {
    it(`carries an answer naming ${JSON.stringify(model)}`, () => {
      const answer: JsonAnswer = {
        kind: 'json',
        status: 200,
        body: { object: 'chat.completion', model, choices: [] },
        usage,
        servedBy,
      };
      const { message, bodyHeader } = jsonAnswerMessage(answer, model);
      const envelope = envelopeWithBodyText(message, { [BODY_HEADER]: bodyHeader });
      const body = (envelope ?? (JSON.parse(message) as { body: unknown })).body as {
        model: string;
      };
      assert.equal(body.model, model);
    });
  }
});
