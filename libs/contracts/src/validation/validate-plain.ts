import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError, type ValidatorOptions } from 'class-validator';
import { type ValidationIssue } from '../contracts.errors';
import { err, ok, type Result } from '../result';

/** Options for payloads we own: unknown fields are a contract breach. */
export const STRICT_VALIDATION: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/**
 * Options for events a consumer reads: a field its build does not know is dropped, not
 * refused. A newer producer may add optional fields to a version (usage events gained
 * prompt-cache writes); refusing them dead-lettered every such event in a consumer not yet
 * upgraded, and with it the usage a budget had to settle. Unknown versions stay refused.
 */
export const CONSUMED_EVENT_VALIDATION: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: false,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/** Options for third-party wire formats: providers add fields often, let them through. */
export const LENIENT_VALIDATION: ValidatorOptions = {
  whitelist: false,
  forbidNonWhitelisted: false,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/**
 * Turns a parsed JSON value into a validated instance of `cls`, or the list of problems
 * with each field named by its full path. No implicit conversion: "5" is not a number.
 */
export function validatePlain<T extends object>(
  cls: ClassConstructor<T>,
  plain: unknown,
  options: ValidatorOptions,
): Result<T, ValidationIssue[]> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return err([{ path: '', message: `expected a JSON object, got ${describe(plain)}` }]);
  }
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance, options);
  return errors.length === 0 ? ok(instance) : err(flattenValidationErrors(errors));
}

export function flattenValidationErrors(errors: readonly ValidationError[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const walk = (list: readonly ValidationError[], parent: string): void => {
    for (const error of list) {
      const path = joinPath(parent, error.property);
      for (const [kind, message] of relevantConstraints(error.constraints ?? {})) {
        issues.push({
          path,
          message:
            kind === 'nestedValidation'
              ? nestedMessage(path, error.property, message)
              : withPath(message, error.property, path),
        });
      }
      if (error.children?.length) walk(error.children, path);
    }
  };
  walk(errors, '');
  return issues;
}

// When a value has the wrong type, range or emptiness complaints about it are noise:
// "messages must be an array" says it all.
const TYPE_CHECKS = new Set([
  'isDefined',
  'isString',
  'isNumber',
  'isInt',
  'isBoolean',
  'isArray',
  'isObject',
  'isJsonObject',
  'nestedValidation',
]);

function relevantConstraints(constraints: Record<string, string>): [string, string][] {
  const all = Object.entries(constraints);
  const typeErrors = all.filter(([kind]) => TYPE_CHECKS.has(kind));
  if (typeErrors.length === 0) return all;
  const specific = typeErrors.filter(([kind]) => kind !== 'nestedValidation');
  return specific.length > 0 ? specific : typeErrors;
}

function nestedMessage(path: string, property: string, message: string): string {
  const ofArray = message.startsWith('each') && !/^\d+$/.test(property);
  return `${path} must be ${ofArray ? 'an array of objects' : 'an object'}`;
}

function joinPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent === '' ? property : `${parent}.${property}`;
}

// class-validator starts messages with the bare property name; a user needs the full path.
function withPath(message: string, property: string, path: string): string {
  if (message.startsWith(`${property} `)) return `${path}${message.slice(property.length)}`;
  if (message.startsWith(`property ${property} `)) {
    return `property ${path}${message.slice(`property ${property}`.length)}`;
  }
  return path === '' ? message : `${path}: ${message}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
