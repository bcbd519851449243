import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RedactDetectorName, ResponseValidationConfig } from '@aigw/config';
import type { JsonObject, StreamAnswer, TokenUsage } from '@aigw/contracts/data-plane';
import { AnswerGuard, type AnswerReport } from './answer-guard';
import { ibanValid, luhnValid } from './detectors';
import { Redactor, placeholderFor } from './redactor';
import { DETECTOR_STREAM_HOLD, streamHoldFor } from './stream-hold';
import { StreamTail } from './stream-tail';

/** A valid IBAN of `length` characters, printed in groups of four. */
function iban(length: number): string {
  const account = 'A'.repeat(length - 4);
  for (let check = 2; check < 99; check++) {
    const compact = `GB${String(check).padStart(2, '0')}${account}`;
    if (ibanValid(compact)) return compact.replace(/(.{4})/g, '$1 ').trim();
  }
  throw new Error('no check digits');
}

/** A 19-digit card printed 4-4-4-4-3 whose shorter prefixes (13-18 digits) all fail Luhn. */
function longestCard(): string {
  for (let n = 0; n < 1_000_000; n++) {
    const digits = `4${String(n).padStart(18, '0')}`;
    if (!luhnValid(digits)) continue;
    if ([13, 14, 15, 16, 17, 18].some((length) => luhnValid(digits.slice(0, length)))) continue;
    return digits.replace(/(\d{4})/g, '$1 ').trim();
  }
  throw new Error('no such card');
}

/** For each detector, the match it needs to see longest before it can tell (the worst case). */
const WORST: Readonly<Record<RedactDetectorName, string>> = {
  apiKey: `ghp_${'a'.repeat(36)}`,
  // The first label is read whole before the dot and TLD that end the shortest match.
  email: `${'x'.repeat(64)}@${'d'.repeat(63)}.co`,
  iban: iban(34),
  creditCard: longestCard(),
  usSsn: '123-45-6789',
  // The longest accepted form; the tightest phone found needs less (see below).
  phone: '+1234 (5678) 1 2 3 4 567',
};

/** `secret` in a sentence, streamed a character at a time through a tail of `hold`. */
function streamed(detector: RedactDetectorName, secret: string, hold: number): string {
  const scanner = new Redactor({ detectors: [{ name: detector, mode: 'redact' }], patterns: [] });
  const tail = new StreamTail(scanner, hold, new Map());
  let out = '';
  for (const char of `Here it is: ${secret} and more.`) out += tail.push(char).text;
  return out + tail.flush().text;
}

const masked = (detector: RedactDetectorName) =>
  `Here it is: ${placeholderFor(detector)} and more.`;

describe('the stream hold each built-in detector needs', () => {
  for (const [detector, secret] of Object.entries(WORST) as [RedactDetectorName, string][]) {
    it(`${detector}: its worst case is masked at the table's hold`, () => {
      assert.ok(secret.length <= DETECTOR_STREAM_HOLD[detector], 'the table covers it');
      assert.equal(streamed(detector, secret, DETECTOR_STREAM_HOLD[detector]), masked(detector));
      // One shorter is enough; two shorter, its start goes out before the match shows.
      assert.equal(streamed(detector, secret, secret.length - 1), masked(detector));
      if (detector !== 'phone') {
        const leaked = streamed(detector, secret, secret.length - 2);
        assert.notEqual(leaked, masked(detector), 'the table is not larger than it must be');
      }
    });
  }

  it('email: a long first label is masked at the table’s hold, not only a short domain', () => {
    for (const email of [`${'x'.repeat(40)}@internationalbusinessmachines.com`, 'a@b.co']) {
      assert.equal(streamed('email', email, DETECTOR_STREAM_HOLD.email), masked('email'));
    }
  });

  it('phone: its other forms are masked at the table’s hold', () => {
    for (const phone of ['+1 (2) 3 4 5 6 789', '+44 20 7946 0958', '(555) 123-4567']) {
      assert.equal(streamed('phone', phone, DETECTOR_STREAM_HOLD.phone), masked('phone'));
    }
  });

  it('raises a short streamHoldChars to what the route’s detectors need, no further', () => {
    const config = (hold: number, detectors: RedactDetectorName[]): ResponseValidationConfig => ({
      blockPatterns: ['BEGIN PRIVATE KEY'],
      redact: {
        detectors: detectors.map((name) => ({ name, mode: 'redact' as const })),
        patterns: [{ name: 'employeeId', regex: 'EMP-[0-9]{6}', mode: 'redact' }],
      },
      streamHoldChars: hold,
    });
    assert.equal(streamHoldFor(config(16, ['apiKey'])), 40);
    assert.equal(streamHoldFor(config(16, ['usSsn', 'creditCard'])), 23);
    assert.equal(streamHoldFor(config(16, ['apiKey', 'email'])), 131);
    assert.equal(streamHoldFor(config(256, ['email'])), 256, 'a longer setting stands');
    assert.equal(streamHoldFor(config(16, [])), 16, "custom patterns' hold is the setting");
    assert.equal(streamHoldFor({ blockPatterns: ['x'], streamHoldChars: 20 }), 20);
  });
});

describe('AnswerGuard: a short streamHoldChars', () => {
  const USAGE: TokenUsage = {
    inputTokens: 3,
    outputTokens: 5,
    cachedInputTokens: 0,
    source: 'reported',
  };
  const report: AnswerReport = { redacted: () => undefined, blocked: () => undefined };

  async function streamText(guard: AnswerGuard, pieces: readonly string[]): Promise<string> {
    async function* events(): AsyncGenerator<JsonObject> {
      for (const piece of pieces) {
        yield { id: 'c', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] };
      }
      yield { id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
    }
    const answer: StreamAnswer = {
      kind: 'stream',
      status: 200,
      events: events(),
      usage: Promise.resolve(USAGE),
      servedBy: { backend: 'b', provider: 'openai', model: 'm' },
    };
    const checked = guard.check(answer, 'chat', report);
    assert.equal(checked.kind, 'stream');
    let text = '';
    if (checked.kind !== 'stream') return text;
    for await (const chunk of checked.events) {
      const choice = (chunk.choices as JsonObject[])[0] as { delta?: { content?: string } };
      text += choice?.delta?.content ?? '';
    }
    return text;
  }

  const guard = (hold: number) =>
    new AnswerGuard({
      blockPatterns: [],
      redact: { detectors: [{ name: 'apiKey', mode: 'redact' }], patterns: [] },
      streamHoldChars: hold,
    });

  it('masks an sk- key streamed at streamHoldChars: 16 as it is at 24 and 256', async () => {
    const key = 'sk-abcdefghijklmnopqrstuvwxyz1234';
    for (const hold of [16, 24, 256]) {
      for (const pieces of [
        [...`Your key: ${key} ok`],
        ['Your key: ', 'sk-abcdefg', 'hijklmno', 'pqrstuvw', 'xyz1234', ' ok'],
      ]) {
        assert.equal(await streamText(guard(hold), pieces), 'Your key: [REDACTED:apiKey] ok');
      }
    }
  });

  it('masks a GitHub token (40 characters) at streamHoldChars: 24', async () => {
    const token = `ghp_${'Z'.repeat(36)}`;
    assert.equal(
      await streamText(guard(24), [...`token ${token} end`]),
      'token [REDACTED:apiKey] end',
    );
  });
});
