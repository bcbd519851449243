/** A setting from the environment that is not what it must be; the message names it. */
export class InvalidSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSettingError';
  }
}

/**
 * A whole number > 0 from the environment (`AI_GATEWAY_..._BYTES`, `..._MS`, ...), or the
 * fallback when unset or empty. Anything else stops the start with a message naming the
 * variable and what it held.
 */
export function positiveIntegerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
): number {
  return integerSetting(env, name, fallback, 1, 'a positive whole number');
}

/** Like `positiveIntegerSetting`, where 0 is allowed (it turns something off). */
export function nonNegativeIntegerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
): number {
  return integerSetting(env, name, fallback, 0, 'a whole number, 0 or more');
}

/**
 * A whole number from `bounds.min` to `bounds.max`, blanks around it ignored, or the
 * fallback when unset or blank; `bounds.expected` says what it must be in the message.
 */
export function boundedIntegerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  bounds: { readonly min: number; readonly max: number; readonly expected: string },
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new InvalidSettingError(`${name} must be ${bounds.expected}, got "${raw}"`);
  }
  return value;
}

function integerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  expected: string,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidSettingError(`${name} must be ${expected}, got "${raw}"`);
  }
  return value;
}
