import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResponseValidationConfig } from '@aigw/config';
import type { JsonObject, StreamAnswer } from '@aigw/contracts/data-plane';
import { AnswerGuard } from './answer-guard';

const EMAIL = 'jane.doe@example.com';
const CONFIG: ResponseValidationConfig = {
  blockPatterns: [],
  redact: { detectors: [{ name: 'email', mode: 'redact' }], patterns: [] },
  streamHoldChars: 64,
};

const chunk = (delta: JsonObject, finish: string | null = null): JsonObject => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

const text = (t: string, extra: JsonObject = {}): JsonObject => ({
  type: 'reasoning.text',
  text: t,
  ...extra,
});

async function guarded(chunks: readonly JsonObject[]): Promise<JsonObject[]> {
  async function* events(): AsyncGenerator<JsonObject> {
    for (const c of chunks) yield c;
  }
  const answer: StreamAnswer = {
    kind: 'stream',
    status: 200,
    events: events(),
    usage: Promise.resolve({
      inputTokens: 1,
      outputTokens: 1,
      cachedInputTokens: 0,
      source: 'reported',
    }),
    servedBy: { backend: 'b', provider: 'openrouter', model: 'm' },
  };
  const report = { redacted: () => undefined, blocked: () => undefined };
  const checked = new AnswerGuard(CONFIG).check(answer, 'chat', report) as StreamAnswer;
  const out: JsonObject[] = [];
  for await (const event of checked.events) out.push(event);
  return out;
}

/** The readable text of entries, joined in the order they came. */
const textOf = (entries: readonly JsonObject[]): string =>
  entries.map((entry) => (typeof entry.text === 'string' ? entry.text : '')).join('');

/** The entries as they arrive, in order (a client that appends each one's text as it comes). */
function arrived(chunks: readonly JsonObject[]): JsonObject[] {
  return chunks.flatMap((c) =>
    (c.choices as JsonObject[]).flatMap(
      (choice) => ((choice.delta as JsonObject).reasoning_details ?? []) as JsonObject[],
    ),
  );
}

describe('streamed reasoning_details (OpenRouter) through the answer guard', () => {
  const first = `The first entry, long enough to be held in part: ${'a'.repeat(80)} end one.`;
  const second = `The second entry ${'b'.repeat(80)} end two.`;

  it('releases an entry before the next one starts, so a client reading in order keeps each whole', async () => {
    for (const last of [chunk({}, 'stop'), chunk({ content: 'Answer.' }, 'stop')]) {
      const out = await guarded([
        chunk({ reasoning_details: [text(first, { index: 0 })] }),
        chunk({ reasoning_details: [text(second, { index: 1 })] }),
        last,
      ]);
      const entries = arrived(out);
      const order = entries.map((entry) => entry.index);
      assert.deepEqual(order, [...order].sort(), JSON.stringify(entries));
      assert.equal(textOf(entries), first + second);
    }
  });

  it("releases an entry's held text before a signature that comes without text", async () => {
    const out = await guarded([
      chunk({ reasoning_details: [text(first, { index: 0 })] }),
      chunk({ reasoning_details: [{ type: 'reasoning.text', signature: 'sig-1', index: 0 }] }),
      chunk({ content: 'Answer.' }, 'stop'),
    ]);
    const entries = arrived(out);
    assert.equal(entries.at(-1)?.signature, 'sig-1', JSON.stringify(entries));
    assert.equal(textOf(entries), first);
  });

  it('masks a match split across fragments of an entry without an index', async () => {
    const out = await guarded([
      chunk({
        reasoning_details: [
          { type: 'reasoning.encrypted', data: 'opaque' },
          text(`mail ${EMAIL.slice(0, 12)}`),
        ],
      }),
      chunk({ reasoning_details: [text(`${EMAIL.slice(12)} now`)] }),
      chunk({ content: 'Answer.' }, 'stop'),
    ]);
    assert.equal(textOf(arrived(out)), 'mail [REDACTED:email] now');
    assert.equal(JSON.stringify(out).includes(EMAIL.slice(12)), false);
  });
});
