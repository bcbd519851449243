// Operators' rules over characters outside the Basic Multilingual Plane (emoji, rare CJK):
// each such character is two UTF-16 units, and a rule read unit by unit matches half of
// one (a class [💣] held the high half every emoji from U+1F400 to U+1F7FF shares).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { PromptGuard } from '../domain/prompt-guard';
import { Redactor, type RedactionTally } from './redactor';

const pattern = (regex: string) => ({
  detectors: [],
  patterns: [{ name: 'rule', regex, mode: 'redact' as const }],
});

function redact(regex: string, text: string): string {
  const tally: RedactionTally = new Map();
  return new Redactor(pattern(regex)).redact(text, tally);
}

describe('rules over astral characters', () => {
  it('a blockPatterns class of emoji blocks those, not every emoji beside them', () => {
    const guard = new PromptGuard(true, ['[💣🔫]']);
    assert.doesNotThrow(() => guard.check('thanks 😀'));
    assert.throws(() => guard.check('a 💣 here'), DataPlaneError);
  });

  it('a redact rule never cuts an emoji in half (no lone surrogate sent on)', () => {
    assert.equal(redact('[💣]', 'hi 😀 💣'), 'hi 😀 [REDACTED:rule]');
    assert.equal(redact('code:.', 'code:😀 code:x'), '[REDACTED:rule] [REDACTED:rule]');
  });

  it('a block rule of the answer side reads characters too', () => {
    const tally: RedactionTally = new Map();
    const redactor = new Redactor({ detectors: [], patterns: [] }, ['[💣]']);
    assert.doesNotThrow(() => redactor.redact('😀', tally));
  });

  it('a rule u-mode refuses (an identity escape such as \\-) still works as written', () => {
    assert.equal(redact('a\\-b', 'x a-b y'), 'x [REDACTED:rule] y');
    const guard = new PromptGuard(true, ['forbidden\\_word']);
    assert.throws(() => guard.check('a forbidden_word'), DataPlaneError);
  });

  it('a rule matching only around an emoji ends its search (no endless empty match)', () => {
    const redactor = new Redactor(pattern('(?=😀)|(?<=😀)'));
    assert.deepEqual(redactor.matches('a😀b😀'), []);
  });

  it('a search from inside a pair cut at `from` finds nothing before `from`', () => {
    const redactor = new Redactor(pattern('😀x'));
    assert.deepEqual(redactor.matches('a😀x', 2), []);
  });
});
