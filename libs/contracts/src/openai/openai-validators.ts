import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { isTextOrTokens, TEXT_OR_TOKENS_EXPECTED } from '../data-plane/text-or-tokens';

// Union-typed OpenAI fields (string | array, enum | object) that class-validator's
// built-in decorators cannot express. Each check is a cheap type test, no allocation.

function rule(
  name: string,
  test: (value: unknown, args: ValidationArguments) => boolean,
  expected: string,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name,
      validator: {
        validate: test,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'value'} must be ${expected}`,
      },
    },
    options,
  );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const IsJsonObject = (options?: ValidationOptions) =>
  rule('isJsonObject', isPlainObject, 'a JSON object', options);

export const IsStringOrStringArray = (maxItems: number, options?: ValidationOptions) =>
  rule(
    'isStringOrStringArray',
    (v) =>
      typeof v === 'string' ||
      (Array.isArray(v) && v.length <= maxItems && v.every((s) => typeof s === 'string')),
    `a string or an array of at most ${maxItems} strings`,
    options,
  );

/** `prompt` / `input`: text, texts, token ids, or arrays of token ids (the wire's rule too). */
export const IsTextOrTokens = (options?: ValidationOptions) =>
  rule('isTextOrTokens', isTextOrTokens, TEXT_OR_TOKENS_EXPECTED, options);

export const IsNumberRecord = (min: number, max: number, options?: ValidationOptions) =>
  rule(
    'isNumberRecord',
    (v) =>
      isPlainObject(v) &&
      Object.values(v).every((n) => typeof n === 'number' && n >= min && n <= max),
    `an object mapping keys to numbers between ${min} and ${max}`,
    options,
  );

export const IsStringRecord = (options?: ValidationOptions) =>
  rule(
    'isStringRecord',
    (v) => isPlainObject(v) && Object.values(v).every((s) => typeof s === 'string'),
    'an object mapping keys to strings',
    options,
  );

function isContentPart(part: unknown): boolean {
  if (!isPlainObject(part) || typeof part.type !== 'string') return false;
  // Only the part we read (text) is checked in depth; other part kinds pass to the provider.
  return part.type !== 'text' || typeof part.text === 'string';
}

/**
 * Message content: a string or an array of typed parts. Only an assistant message (with
 * tool calls or a refusal) may leave it out or set it to null.
 */
export const IsMessageContent = (options?: ValidationOptions) =>
  rule(
    'isMessageContent',
    (v, args) => {
      if (v === null || v === undefined)
        return (args.object as { role?: unknown }).role === 'assistant';
      return typeof v === 'string' || (Array.isArray(v) && v.every(isContentPart));
    },
    'a string or an array of content parts (objects with a string "type"; text parts need "text")',
    options,
  );

/** `tool_choice`: "none" | "auto" | "required", or an object naming a tool. */
export const IsToolChoice = (options?: ValidationOptions) =>
  rule(
    'isToolChoice',
    (v) =>
      v === 'none' ||
      v === 'auto' ||
      v === 'required' ||
      (isPlainObject(v) && typeof v.type === 'string'),
    '"none", "auto", "required" or an object with a string "type"',
    options,
  );
