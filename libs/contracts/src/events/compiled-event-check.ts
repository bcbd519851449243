import { type ClassConstructor } from 'class-transformer';
import {
  getMetadataStorage,
  ValidationTypes,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';

/**
 * The contract check of a consumed event, compiled once per event class from the class's
 * own class-validator decorators, for the events that pass it.
 *
 * Why: `plainToInstance` + `validateSync` spent ~55 µs CPU and ~26 KB per event in the
 * usage sink on the loaded 2-core box (bench/micro/usage-sink-decode.ts; this: ~12.5 µs,
 * ~4.3 KB, about a fifth of it JSON.parse): both look up and regroup the class's
 * metadata, and build an error object per property, on every call. The validators
 * themselves are cheap. Here the metadata is grouped once and the same validator
 * functions run with the same arguments, under the same conditions (`@IsOptional`,
 * `validateIf`), as class-validator runs them with CONSUMED_EVENT_VALIDATION.
 *
 * It only vouches for an event: `instanceIfValid` answers undefined whenever it cannot
 * (a validator refused, a field it does not know, an object or array value), and the
 * caller then runs the full plainToInstance + validateSync, which gives the event's
 * exact issues or the instance with unknown fields stripped. So rejections, and their
 * messages, are class-validator's own; only events that pass skip it.
 */

/** One validator of one property, with the arguments class-validator would pass it. */
interface CompiledValidator {
  readonly constraint: ValidatorConstraintInterface;
  /**
   * Its arguments, made once and filled for each call (validators are synchronous and keep
   * no reference to them): an object per call took a decode from ~4.3 to ~6.8 KB.
   */
  readonly args: ValidationArguments;
  readonly validateIf?: (object: object, value: unknown) => boolean;
}

interface CompiledProperty {
  readonly name: string;
  /** `@IsOptional`, `@ValidateIf`: all must hold for the validators to run. */
  readonly conditions: readonly ((object: object, value: unknown) => boolean)[];
  /** `@IsDefined` first, then the rest, as class-validator orders them. */
  readonly validators: readonly CompiledValidator[];
}

interface CompiledCheck {
  readonly fields: ReadonlySet<string>;
  readonly properties: readonly CompiledProperty[];
}

const EMPTY = Object.freeze({});

// null: the class uses a feature this check does not model; it always takes the slow path.
const compiled = new Map<ClassConstructor<object>, CompiledCheck | null>();

/**
 * `parsed` (a JSON object) as an instance of `cls` when it passes the class's contract and
 * holds only fields the class declares, with primitive values: the instance
 * `plainToInstance` then `validateSync` (whitelist, unknown fields not forbidden) would
 * give. Undefined otherwise, including for every invalid event.
 */
export function instanceIfValid<T extends object>(
  cls: ClassConstructor<T>,
  parsed: Record<string, unknown>,
): T | undefined {
  let check = compiled.get(cls);
  if (check === undefined) {
    check = compile(cls);
    compiled.set(cls, check);
  }
  if (check === null) return undefined;

  const keys = Object.keys(parsed);
  for (const key of keys) {
    if (!check.fields.has(key)) return undefined; // stripped by the whitelist: slow path
    const value = parsed[key];
    // plainToInstance copies nested values (and validators may read them): slow path.
    if (typeof value === 'object' && value !== null) return undefined;
  }
  // As plainToInstance: a fresh instance (its declared fields and defaults), then each
  // key of the JSON in its order.
  const instance = new cls() as Record<string, unknown>;
  for (const key of keys) instance[key] = parsed[key];

  for (const property of check.properties) {
    const value = instance[property.name];
    let run = true;
    // Every condition is called, as class-validator calls them (not short-circuited).
    for (const condition of property.conditions) run = condition(instance, value) && run;
    if (!run) continue;
    for (const validator of property.validators) {
      if (validator.validateIf && !validator.validateIf(instance, value)) continue;
      const args = validator.args;
      args.object = instance;
      args.value = value;
      let passed: unknown;
      try {
        passed = validator.constraint.validate(value, args);
      } finally {
        args.object = EMPTY; // holds no event past its check
        args.value = undefined;
      }
      // Truthy passes, as in validateSync.
      if (!passed) return undefined;
    }
  }
  return instance as T;
}

/** Groups the class's validation metadata once; null when a feature is not modelled. */
function compile(cls: ClassConstructor<object>): CompiledCheck | null {
  const storage = getMetadataStorage();
  // The arguments ValidationExecutor passes for validateSync(instance, options) without
  // groups, `always` or strictGroups (CONSUMED_EVENT_VALIDATION).
  const metadatas = storage.getTargetValidationMetadatas(
    cls,
    undefined as unknown as string,
    false,
    false,
    undefined,
  );
  if (metadatas.length === 0) return null;
  const grouped = storage.groupByPropertyName(metadatas);
  const fields = new Set(Object.keys(grouped).filter((name) => grouped[name].length > 0));

  // A fresh instance's own fields must all be kept by the whitelist, and plainToInstance
  // must set each declared field (it skips getters and methods).
  const fresh = new cls() as Record<string, unknown>;
  if (Object.keys(fresh).some((key) => !fields.has(key))) return null;
  for (const field of fields) {
    if (Object.getOwnPropertyDescriptor(cls.prototype, field)) return null;
    if (fresh[field] instanceof Function) return null;
  }

  const properties: CompiledProperty[] = [];
  for (const name of Object.keys(grouped)) {
    const conditions: ((object: object, value: unknown) => boolean)[] = [];
    const defined: CompiledValidator[] = [];
    const custom: CompiledValidator[] = [];
    for (const metadata of grouped[name]) {
      switch (metadata.type) {
        case ValidationTypes.WHITELIST:
          break;
        case ValidationTypes.CONDITIONAL_VALIDATION:
          conditions.push(metadata.constraints[0] as (object: object, value: unknown) => boolean);
          break;
        case ValidationTypes.IS_DEFINED:
        case ValidationTypes.CUSTOM_VALIDATION: {
          const target = metadata.type === ValidationTypes.IS_DEFINED ? defined : custom;
          for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
            // validateSync skips async validators; keep it simple and take the slow path.
            if (constraint.async) return null;
            target.push({
              constraint: constraint.instance,
              args: {
                targetName: cls.name,
                property: name,
                object: EMPTY,
                value: undefined,
                constraints: metadata.constraints,
              },
              validateIf: metadata.validateIf,
            });
          }
          break;
        }
        default:
          return null; // nested or promise validation
      }
    }
    properties.push({ name, conditions, validators: [...defined, ...custom] });
  }
  return { fields, properties };
}
