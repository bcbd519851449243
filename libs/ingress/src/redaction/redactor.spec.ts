import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RedactConfig, RedactDetectorName } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { ibanValid, luhnValid } from './detectors';
import { Redactor, type RedactionTally } from './redactor';

const only = (name: RedactDetectorName, mode: 'redact' | 'block' = 'redact'): Redactor =>
  new Redactor({ detectors: [{ name, mode }], patterns: [] });

function run(redactor: Redactor, text: string): { text: string; tally: RedactionTally } {
  const tally: RedactionTally = new Map();
  return { text: redactor.redact(text, tally), tally };
}

/** Each text must be masked whole by `name`, inside a sentence. */
function masks(name: RedactDetectorName, texts: readonly string[]): void {
  const redactor = only(name);
  for (const secret of texts) {
    const { text, tally } = run(redactor, `before ${secret}, after`);
    assert.equal(text, `before [REDACTED:${name}], after`, secret);
    assert.equal(tally.get(name), 1, secret);
  }
}

/** Each text must pass untouched (and uncounted) by `name`. */
function spares(name: RedactDetectorName, texts: readonly string[]): void {
  const redactor = only(name);
  for (const text of texts) {
    const result = run(redactor, `see ${text} here`);
    assert.equal(result.text, `see ${text} here`, text);
    assert.equal(result.tally.size, 0, text);
  }
}

describe('Redactor built-in detectors', () => {
  it('email: addresses, not handles, versions or bare domains', () => {
    masks('email', ['jane.doe+tag@example.co.uk', 'a_b@sub.example.com', 'X9@mail.io']);
    spares('email', ['@jane', 'user@localhost', 'pkg@1.2.3', 'example.com', 'a@b']);
  });

  it('phone: E.164 and common national formats; not versions, dates, UUIDs or ids', () => {
    masks('phone', [
      '+14155552671',
      '+1 415 555 2671',
      '+44 20 7946 0958',
      '+33 1 23 45 67 89',
      '+49 (30) 1234567',
      '(415) 555-2671',
      '415-555-2671',
      '415.555.2671',
      '020 7946 0958',
      '01 23 45 67 89',
    ]);
    spares('phone', [
      '1.2.3',
      '10.0.19041.1234',
      'v2.100.2024',
      '192.168.100.200',
      '2024-01-15',
      '2024-01-15T10:20:30Z',
      '01-02-2024',
      '123e4567-e89b-12d3-a456-426614174000',
      '550e8400-e29b-41d4-a716-446655440000',
      'order 4155552671',
      '+1.2.3',
      '+12',
      '1-800',
      '12:30',
    ]);
  });

  it('creditCard: Luhn-valid numbers as printed; Luhn-invalid ones and order numbers are kept', () => {
    masks('creditCard', [
      '4111111111111111',
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '5555555555554444',
      '378282246310005',
      '3782 822463 10005',
      '6011111111111117',
    ]);
    spares('creditCard', [
      '4111111111111112', // one digit off: Luhn fails
      '4111 1111 1111 1112',
      '1234567890123456', // starts with no card network's digit
      '9111111111111111',
      '41111111', // too short
      '4111 1111-1111 1111', // mixed separators
      '3.14159265358979323',
    ]);
    assert.ok(luhnValid('79927398713'));
    assert.ok(!luhnValid('79927398710'));
  });

  it('iban: checksum-valid account numbers, spaced or not', () => {
    masks('iban', [
      'DE89370400440532013000',
      'DE89 3704 0044 0532 0130 00',
      'GB82 WEST 1234 5698 7654 32',
      'FR1420041010050500013M02606',
    ]);
    spares('iban', ['DE89370400440532013001', 'GB82 WEST 1234 5698 7654 33', 'AB12 CDEF GHIJ']);
    assert.ok(ibanValid('GB82WEST12345698765432'));
    assert.ok(!ibanValid('GB82WEST12345698765423'));
  });

  it('usSsn: hyphenated and issuable; not dates, phone numbers or never-issued ranges', () => {
    masks('usSsn', ['123-45-6789', '078-05-1120']);
    spares('usSsn', ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000']);
    spares('usSsn', ['2024-01-15', '123-45-67890', '415-555-2671', '123456789']);
  });

  it('apiKey: well-known key shapes; not ordinary words or short ids', () => {
    masks('apiKey', [
      'sk-proj-abcdefghijklmnopqrstuvwxyz012345',
      'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-abc',
      'sk-1234567890abcdefghijklmn',
      'AKIAIOSFODNN7EXAMPLE',
      `ghp_${'a1B2'.repeat(9)}`,
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      'AIzaSyA1234567890abcdefghijklmnopqrstuv',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0', // unsigned: the claims alone
      'sk_live_abcdefghijklmnop1234',
    ]);
    spares('apiKey', [
      'sk-learn',
      'task-1234',
      'AKIA1234',
      'ghp_short',
      'eyJhbGciOiJIUzI1NiJ9',
      'a.b.c',
      'desk-abcdefghijklmnopqrstuvwxyz',
    ]);
  });

  it('counts each match, several per text, and keeps the rest of the text', () => {
    const redactor = new Redactor({
      detectors: [
        { name: 'email', mode: 'redact' },
        { name: 'phone', mode: 'redact' },
      ],
      patterns: [],
    });
    const { text, tally } = run(redactor, 'a@x.io, b@y.io; call +1 415 555 2671 now');
    assert.equal(text, '[REDACTED:email], [REDACTED:email]; call [REDACTED:phone] now');
    assert.deepEqual(
      [...tally],
      [
        ['email', 2],
        ['phone', 1],
      ],
    );
  });

  it('returns the same string when nothing matches', () => {
    const text = 'nothing sensitive in version 1.2.3 of 2024-01-15';
    const redactor = new Redactor({
      detectors: ['email', 'phone', 'creditCard', 'iban', 'usSsn', 'apiKey'].map((name) => ({
        name: name as RedactDetectorName,
        mode: 'redact' as const,
      })),
      patterns: [],
    });
    const tally: RedactionTally = new Map();
    assert.equal(redactor.redact(text, tally), text);
    assert.equal(tally.size, 0);
  });
});

describe('Redactor custom patterns and modes', () => {
  const config = (extra: Partial<RedactConfig>): RedactConfig => ({
    detectors: [],
    patterns: [],
    ...extra,
  });

  it('masks a custom pattern case-insensitively under its own name', () => {
    const redactor = new Redactor(
      config({ patterns: [{ name: 'employeeId', regex: 'EMP-[0-9]{6}', mode: 'redact' }] }),
    );
    const { text, tally } = run(redactor, 'ask emp-123456 or EMP-654321, not EMP-12');
    assert.equal(text, 'ask [REDACTED:employeeId] or [REDACTED:employeeId], not EMP-12');
    assert.equal(tally.get('employeeId'), 2);
  });

  it('runs custom patterns before the built-ins', () => {
    const redactor = new Redactor(
      config({
        detectors: [{ name: 'email', mode: 'redact' }],
        patterns: [{ name: 'staffMail', regex: '[a-z]+@corp\\.example', mode: 'redact' }],
      }),
    );
    assert.equal(
      run(redactor, 'ann@corp.example and bob@other.example').text,
      '[REDACTED:staffMail] and [REDACTED:email]',
    );
  });

  it('block mode refuses the prompt naming the rule, never the matched text', () => {
    for (const redactor of [
      only('creditCard', 'block'),
      new Redactor(config({ patterns: [{ name: 'card', regex: '4111\\d{12}', mode: 'block' }] })),
    ]) {
      assert.throws(
        () => run(redactor, 'pay with 4111111111111111'),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.PromptBlocked &&
          /security\.promptValidation\.redact \((creditCard|card)\)/.test(error.message) &&
          !error.message.includes('4111'),
      );
    }
    // A Luhn-invalid number is no card: nothing to block.
    assert.equal(
      run(only('creditCard', 'block'), 'order 4111111111111112').text,
      'order 4111111111111112',
    );
  });
});
