// Validation decorators for the config's own value formats, and message helpers. Messages
// say what was expected and never echo the value (it could be a secret).
// class-transformer's @Type reads design-time metadata, which needs the polyfill loaded.
import 'reflect-metadata';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { looksLikeApiKey } from '../domain/api-key-shape';
import {
  DURATION_EXPECTATION,
  PERIOD_EXPECTATION,
  SIZE_EXPECTATION,
  parseByteSize,
  parseDuration,
  parsePeriod,
} from '../domain/units';

/** `{ message: 'expected <what>' }` for class-validator options. */
export function expecting(what: string, extra: ValidationOptions = {}): ValidationOptions {
  return { ...extra, message: `expected ${what}` };
}

export const REQUIRED = { message: 'is required' } as const;

/** Ceiling of failover.retryAttempts and retry.maxAttempts: each attempt is a backend call. */
export const MAX_ATTEMPTS = 10;

function stringCheck(name: string, expectation: string, ok: (text: string) => boolean) {
  return (options?: ValidationOptions): PropertyDecorator =>
    ValidateBy(
      {
        name,
        validator: {
          validate: (value: unknown) => typeof value === 'string' && ok(value),
          defaultMessage: () => `expected ${expectation}`,
        },
      },
      options,
    );
}

export const IsDuration = stringCheck(
  'isDuration',
  DURATION_EXPECTATION,
  (text) => parseDuration(text) !== undefined,
);

/**
 * The longest duration a timer of the gateway takes: a Node timer holds at most 2^31-1 ms
 * (24.8 days) and one set longer fires after 1 ms. A round 24 days leaves room for the
 * margins added to a backend's timeout on the way.
 */
export const MAX_TIMER_MS = 24 * 86_400_000;

/** With IsDuration: a duration that parses must fit a timer (a malformed one is IsDuration's). */
export function FitsTimer(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'fitsTimer',
      validator: {
        validate: (value: unknown) => {
          const ms = typeof value === 'string' ? parseDuration(value) : undefined;
          return ms === undefined || ms <= MAX_TIMER_MS;
        },
        defaultMessage: () => 'expected at most 24d (a longer timer would fire at once)',
      },
    },
    options,
  );
}

export const IsByteSize = stringCheck(
  'isByteSize',
  SIZE_EXPECTATION,
  (text) => parseByteSize(text) !== undefined,
);

export const IsPeriod = stringCheck(
  'isPeriod',
  PERIOD_EXPECTATION,
  (text) => parsePeriod(text) !== undefined,
);

export const IsRegexSource = stringCheck('isRegexSource', 'a valid regular expression', (text) => {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
});

/** Kubernetes-style object name: letters, digits, '.', '_', '-'; no path separators. */
export const SAFE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
export const SAFE_NAME_EXPECTATION =
  'a name of letters, digits, ".", "_" or "-" (it names a file in the secrets directory)';

/** apiKeyRef's name and key name where a key is kept: a key pasted there is refused unshown. */
export function NotAnApiKey(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'notAnApiKey',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !looksLikeApiKey(value),
        defaultMessage: () =>
          "looks like an API key itself: apiKeyRef names where the key is kept (a Secret's name and key, or the AI_GATEWAY_SECRET_<NAME>_<KEY> variable), never the key",
      },
    },
    options,
  );
}

/** A mapping of names to prices: a plain object whose values are finite numbers >= 0. */
export function IsPriceMap(expectation: string): PropertyDecorator {
  return ValidateBy({
    name: 'isPriceMap',
    validator: {
      validate: (value: unknown) =>
        !!value &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        !(value instanceof Map) &&
        Object.values(value).every(
          (price) => typeof price === 'number' && Number.isFinite(price) && price >= 0,
        ),
      defaultMessage: () => `expected ${expectation}`,
    },
  });
}
