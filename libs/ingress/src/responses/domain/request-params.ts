import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

// Reading a Responses request's fields: each fault is a 400 in OpenAI's format naming the
// parameter, worded as OpenAI words it.

export function error(param: string, message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

export function missing(param: string): DataPlaneError {
  return error(param, `Missing required parameter: '${param}'.`);
}

export function wrongType(param: string, expected: string): DataPlaneError {
  return error(param, `Invalid type for '${param}': expected ${expected}.`);
}

export function badValue(param: string, why: string): DataPlaneError {
  return error(param, `Invalid value for '${param}': ${why}`);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

export function requiredString(value: unknown, param: string): string {
  if (absent(value)) throw missing(param);
  if (typeof value !== 'string') throw wrongType(param, 'a string');
  return value;
}

export function optionalString(value: unknown, param: string): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'string') throw wrongType(param, 'a string');
  return value;
}

export function optionalNumber(value: unknown, param: string): number | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(param, 'a number');
  return value;
}

export function optionalBoolean(value: unknown, param: string): boolean | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'boolean') throw wrongType(param, 'a boolean');
  return value;
}
