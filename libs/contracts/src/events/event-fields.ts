import { IsInt, IsNotEmpty, IsNumber, IsString, MaxLength, Min } from 'class-validator';

// Decorator bundles so every event spells the same kind of field the same way.

/**
 * The longest identifier or name an event carries (user key, model...). The edge refuses
 * longer ones from clients, so every event it causes stays valid.
 */
export const MAX_NAME_LENGTH = 256;

/** A non-empty identifier or name (user key, model, backend...). */
export function Name(maxLength = MAX_NAME_LENGTH): PropertyDecorator {
  return (target, key) => {
    IsString()(target, key);
    IsNotEmpty()(target, key);
    MaxLength(maxLength)(target, key);
  };
}

/** A whole, non-negative count of tokens or attempts. */
export function Count(): PropertyDecorator {
  return (target, key) => {
    IsInt()(target, key);
    Min(0)(target, key);
  };
}

/** A finite, non-negative quantity (milliseconds, dollars, weighted cost). */
export function Amount(): PropertyDecorator {
  return (target, key) => {
    IsNumber({ allowNaN: false, allowInfinity: false })(target, key);
    Min(0)(target, key);
  };
}
