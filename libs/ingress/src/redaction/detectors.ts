import type { RedactDetectorName } from '@aigw/config';

/**
 * A built-in detector: a global regex finding candidates and, where a format has a check
 * digit, a test a candidate must pass. Every regex starts only where a token starts (a
 * look-behind), so a long run of letters or digits is scanned once, not once per offset.
 */
export interface Detector {
  readonly name: string;
  readonly regex: RegExp;
  readonly accept?: (match: string) => boolean;
  /** A cheap test a text must pass to be worth the regex (a character every match has). */
  readonly mightMatch?: (text: string) => boolean;
}

const digitsOf = (text: string): string => text.replace(/\D/g, '');

/** The Luhn check every payment card number passes (a mistyped digit fails it). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616: the country and check digits moved to the end, read as a number, mod 97 is 1. */
export function ibanValid(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34) return false;
  const moved = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of moved) {
    const code = char.charCodeAt(0);
    const value = code <= 57 ? code - 48 : code - 55; // A = 10 ... Z = 35
    remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

/** Area 000, 666 and 9xx, group 00 and serial 0000 are never issued. */
function ssnValid(text: string): boolean {
  const [area, group, serial] = text.split('-');
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

const EMAIL_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

// Most specific first: a key or an IBAN holds digit runs a looser detector would take.
export const BUILTIN_DETECTORS: Readonly<Record<RedactDetectorName, Detector>> = {
  apiKey: {
    name: 'apiKey',
    regex: new RegExp(
      '(?<![A-Za-z0-9_-])(?:' +
        [
          'sk-[A-Za-z0-9_-]{20,}', // OpenAI (sk-proj-, sk-svcacct-), Anthropic (sk-ant-), DeepSeek
          '(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}', // Stripe
          '(?:AKIA|ASIA)[0-9A-Z]{16}', // AWS access key ids
          'gh[pousr]_[A-Za-z0-9]{36,255}', // GitHub tokens
          'github_pat_[A-Za-z0-9_]{22,255}',
          'xox[abposr]-[A-Za-z0-9-]{10,}', // Slack
          'AIza[0-9A-Za-z_-]{35}', // Google API keys
          // JWTs, signed or not: a match from the payload's start, so a stream's hold
          // catches a token longer than itself (an ID token) before its head goes out.
          'eyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}(?:\\.[A-Za-z0-9_-]{10,})?',
        ].join('|') +
        ')(?![A-Za-z0-9_-])',
      'g',
    ),
  },
  email: {
    name: 'email',
    regex: new RegExp(
      `(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@${EMAIL_LABEL}(?:\\.${EMAIL_LABEL})*\\.[A-Za-z]{2,24}(?![A-Za-z0-9-])`,
      'g',
    ),
    mightMatch: (text) => text.includes('@'),
  },
  iban: {
    name: 'iban',
    // Two letters, two check digits, then the account in groups of four, spaced or not.
    regex:
      /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
    accept: (match) => ibanValid(match.replace(/ /g, '')),
  },
  creditCard: {
    name: 'creditCard',
    // 13 to 19 digits starting 2-6 (the card networks), together or grouped as printed
    // (4-4-4-4[-3] or Amex's 4-6-5), and passing the Luhn check: order numbers rarely do.
    regex:
      /(?<![\d.,-])[2-6](?:\d{12,18}|\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{3})?|\d{3}([ -])\d{6}\2\d{4,5})(?![\d-]|[.,]\d)/g,
    accept: (match) => {
      const digits = digitsOf(match);
      return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
    },
  },
  usSsn: {
    name: 'usSsn',
    // Written with its hyphens only: nine bare digits are too often something else.
    regex: /(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])/g,
    accept: ssnValid,
  },
  phone: {
    name: 'phone',
    regex: new RegExp(
      '(?:' +
        [
          // E.164 and its printed forms: +, country code, groups (one in brackets at most).
          '(?<![\\w+])\\+[1-9]\\d{0,3}(?:[ .-]?\\(\\d{1,4}\\))?(?:[ .-]?\\d{1,5}){1,5}',
          // North American: (555) 123-4567, 555-123-4567, 555.123.4567 (separators required).
          '(?<![\\w.+-])(?:\\(\\d{3}\\) ?|\\d{3}[.-])\\d{3}[.-]\\d{4}',
          // National trunk-0 numbers in spaced groups: 020 7946 0958, 01 23 45 67 89.
          '(?<![\\w.+-])0\\d{1,4}(?: \\d{2,4}){2,4}',
        ].join('|') +
        ')(?![\\w-]|[.,]\\d)',
      'g',
    ),
    accept: (match) => {
      const digits = digitsOf(match).length;
      if (match.startsWith('+')) return digits >= 9 && digits <= 15;
      if (match.startsWith('0') && !match.includes('-') && !match.includes('.')) {
        return digits >= 10 && digits <= 11;
      }
      return digits === 10;
    },
  },
};

/** The order built-ins run in, whatever order the configuration lists them. */
export const DETECTOR_ORDER: readonly RedactDetectorName[] = [
  'apiKey',
  'email',
  'iban',
  'creditCard',
  'usSsn',
  'phone',
];
