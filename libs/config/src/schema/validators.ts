// Validation decorators for the config's own value formats, and message helpers. Messages
// say what was expected and never echo the value (it could be a secret).
// class-transformer's @Type reads design-time metadata, which needs the polyfill loaded.
import 'reflect-metadata';
import { ValidateBy, type ValidationOptions } from 'class-validator';
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
