// Runs class-transformer + class-validator on one plain value and flattens the error
// tree into (path, message) pairs. Unknown fields are rejected, naming the fields that
// are allowed there; values from the file never appear in a message.
import 'reflect-metadata';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { type PathSegment } from '../domain/config-issue';

export interface FieldProblem {
  readonly segments: readonly PathSegment[];
  readonly message: string;
}

export type DtoResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: FieldProblem[] };

export function validateDto<T extends object>(
  cls: ClassConstructor<T>,
  plain: Record<string, unknown>,
  prefix: readonly PathSegment[] = [],
): DtoResult<T> {
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: true, value: false },
  });
  if (errors.length === 0) return { ok: true, value: instance };
  const problems: FieldProblem[] = [];
  for (const error of errors) collect(error, prefix, problems);
  return { ok: false, problems };
}

function collect(error: ValidationError, parent: readonly PathSegment[], out: FieldProblem[]) {
  const segments = [...parent, segmentOf(error)];
  const constraints = error.constraints ?? {};
  if ('whitelistValidation' in constraints) {
    out.push({ segments, message: unknownFieldMessage(error.target) });
  } else if ('isDefined' in constraints) {
    out.push({ segments, message: 'is required' });
  } else {
    let messages = [...new Set(Object.values(constraints).map(normalizeMessage))];
    // A wrong-typed nested value also trips the generic "expected a mapping"; keep the specific one.
    if (messages.length > 1) messages = messages.filter((m) => m !== 'expected a mapping');
    if (messages.length > 0) out.push({ segments, message: messages.join('; ') });
  }
  for (const child of error.children ?? []) collect(child, segments, out);
}

// class-validator reports array indices as strings ("1"); print them as [1].
function segmentOf(error: ValidationError): PathSegment {
  const isIndex = Array.isArray(error.target) || /^\d+$/.test(error.property);
  return isIndex && /^\d+$/.test(error.property) ? Number(error.property) : error.property;
}

function normalizeMessage(message: string): string {
  if (/must be either object or array/.test(message)) return 'expected a mapping';
  if (/an unknown value was passed/.test(message)) return 'expected a mapping';
  return message;
}

function unknownFieldMessage(target: object | undefined): string {
  const known = target ? knownFields(target.constructor) : [];
  return known.length === 0
    ? 'unknown field'
    : `unknown field (expected one of: ${known.join(', ')})`;
}

function knownFields(cls: unknown): string[] {
  if (typeof cls !== 'function') return [];
  const metadata = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}
