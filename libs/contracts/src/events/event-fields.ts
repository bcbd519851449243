import {
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsString,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';

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

/** Seconds past the epoch that a ClickHouse DateTime holds (to 2106-02-07); later ones wrap. */
const LAST_STORABLE_SECOND = 4_294_967_295;

/**
 * A time as ISO 8601 that consumers can read and store: Date.parse reads it (not the week
 * or ordinal dates ISO 8601 also allows), between 1970 and 2106 (a ClickHouse DateTime).
 * An unreadable time would fail its consumer on every retry, holding its partition forever;
 * refused here, the event goes to the dead-letter topic instead.
 */
export function EventTime(): PropertyDecorator {
  return (target, key) => {
    IsISO8601({ strict: true, strictSeparator: true })(target, key);
    ValidateBy({
      name: 'isStorableTime',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const ms = Date.parse(value);
          return ms >= 0 && ms / 1000 <= LAST_STORABLE_SECOND;
        },
        defaultMessage: (args) =>
          `${args?.property ?? 'time'} must be a readable time in 1970-2106`,
      },
    })(target, key);
  };
}
