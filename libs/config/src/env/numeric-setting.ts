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
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidSettingError(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
}
