// Shapes of caching, deduplication, retry and request-security settings.
import { Transform, Type, plainToInstance } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInstance,
  IsInt,
  IsNumber,
  IsOptional,
  Max,
  IsString,
  Matches,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import {
  CACHE_BACKEND_TYPES,
  CACHE_KEY_COMPONENTS,
  FALLBACK_STRATEGIES,
} from '../domain/gateway-config';
import { REDACT_DETECTORS, REDACT_MODES } from '../domain/redact-config';
import {
  FitsTimer,
  IsByteSize,
  IsDuration,
  IsRegexSource,
  REQUIRED,
  expecting,
  MAX_ATTEMPTS,
} from './validators';

const KEY_COMPONENTS = `one of ${CACHE_KEY_COMPONENTS.join(', ')}`;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export class CacheBackendDto {
  @IsDefined(REQUIRED)
  @IsIn(CACHE_BACKEND_TYPES, expecting(`one of ${CACHE_BACKEND_TYPES.join(', ')}`))
  type!: string;

  @IsOptional()
  @IsString(expecting('a host:port or URL string such as "redis:6379"'))
  @MinLength(1, expecting('a host:port or URL string such as "redis:6379"'))
  address?: string;
}

// The spec writes the cache backend both as `backend: redis` and as
// `backend: {type: redis, address: ...}`; the string form is read as `{type}`.
function toCacheBackend({ value }: { value: unknown }): unknown {
  if (typeof value === 'string') return plainToInstance(CacheBackendDto, { type: value });
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return plainToInstance(CacheBackendDto, value);
  }
  return value;
}

export class CachingDto {
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  enabled?: boolean;

  @IsOptional()
  @IsDuration()
  ttl?: string;

  @IsOptional()
  @IsArray(expecting(`a list of ${KEY_COMPONENTS}`))
  @IsIn(CACHE_KEY_COMPONENTS, { each: true, message: `expected ${KEY_COMPONENTS}` })
  keyComponents?: string[];

  @IsOptional()
  @IsByteSize()
  maxSize?: string;

  @IsOptional()
  @Transform(toCacheBackend, { toClassOnly: true })
  @IsInstance(CacheBackendDto, expecting('"redis", "memory", or a mapping {type, address}'))
  @ValidateNested()
  backend?: CacheBackendDto;
}

export class DeduplicationDto {
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  enabled?: boolean;

  @IsOptional()
  @IsDuration()
  @FitsTimer()
  window?: string;

  @IsOptional()
  @IsArray(expecting(`a list of ${KEY_COMPONENTS}`))
  @IsIn(CACHE_KEY_COMPONENTS, { each: true, message: `expected ${KEY_COMPONENTS}` })
  keyComponents?: string[];
}

export class RetryDto {
  // Each attempt calls a backend: an unbounded count let one request hammer failing ones.
  @IsOptional()
  @IsInt(expecting(`an integer from 1 to ${MAX_ATTEMPTS}`))
  @Min(1, expecting(`an integer from 1 to ${MAX_ATTEMPTS}`))
  @Max(MAX_ATTEMPTS, expecting(`at most ${MAX_ATTEMPTS} (each attempt is a backend call)`))
  maxAttempts?: number;

  @IsOptional()
  @IsIn(FALLBACK_STRATEGIES, expecting(`one of ${FALLBACK_STRATEGIES.join(', ')}`))
  fallbackStrategy?: string;

  @IsOptional()
  @IsArray(expecting('a list of model names'))
  @IsString({ each: true, message: 'expected a model name' })
  @MinLength(1, { each: true, message: 'expected a model name' })
  fallbackOrder?: string[];
}

const DETECTOR_NAMES = `one of ${REDACT_DETECTORS.join(', ')}`;
const MODES = `one of ${REDACT_MODES.join(', ')}`;
// Names a placeholder and a metric label: short, and nothing a regex or JSON would read.
const REDACT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export class RedactDetectorDto {
  @IsDefined(REQUIRED)
  @IsIn(REDACT_DETECTORS, expecting(DETECTOR_NAMES))
  name!: string;

  @IsOptional()
  @IsIn(REDACT_MODES, expecting(MODES))
  mode?: string;
}

// A detector is written by name (`email`) or as `{name, mode}`; the name is read as `{name}`.
function toRedactDetectors({ value }: { value: unknown }): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item: unknown) => {
    if (typeof item === 'string') return plainToInstance(RedactDetectorDto, { name: item });
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      return plainToInstance(RedactDetectorDto, item);
    }
    return item;
  });
}

export class RedactPatternDto {
  @IsDefined(REQUIRED)
  @Matches(REDACT_NAME, expecting('a name of letters, digits, "_" or "-" (at most 64)'))
  name!: string;

  @IsDefined(REQUIRED)
  @IsRegexSource()
  regex!: string;

  @IsOptional()
  @IsIn(REDACT_MODES, expecting(MODES))
  mode?: string;
}

export class RedactDto {
  @IsOptional()
  @Transform(toRedactDetectors, { toClassOnly: true })
  @IsArray(expecting(`a list of detectors (${DETECTOR_NAMES}, or a mapping {name, mode})`))
  @ValidateNested({ each: true, message: `expected ${DETECTOR_NAMES}, or a mapping {name, mode}` })
  detectors?: RedactDetectorDto[];

  @IsOptional()
  @IsArray(expecting('a list of mappings {name, regex, mode}'))
  @ValidateNested({ each: true })
  @Type(() => RedactPatternDto)
  patterns?: RedactPatternDto[];
}

/** Several property decorators as one, in the order of a list of them written out. */
function allOf(...decorators: PropertyDecorator[]): PropertyDecorator {
  // TypeScript applies a decorator list bottom up.
  return (target, key) => {
    for (const decorate of [...decorators].reverse()) decorate(target, key);
  };
}

// Prompts and answers take blockPatterns and redact alike, with the same messages. Shared as
// decorators, not a base class: a base's fields would be listed after the answer's own in
// "unknown field (expected one of: ...)".
const BlockPatterns = () =>
  allOf(
    IsOptional(),
    IsArray(expecting('a list of regular expressions')),
    IsRegexSource({ each: true }),
  );
const Redact = () =>
  allOf(
    IsOptional(),
    ValidateNested(expecting('a mapping {detectors, patterns}')),
    Type(() => RedactDto),
  );

export class PromptValidationDto {
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  enabled?: boolean;

  @BlockPatterns()
  blockPatterns?: string[];

  /** An extension to the spec. */
  @Redact()
  redact?: RedactDto;
}

export class ResponseValidationDto {
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  enabled?: boolean;

  @BlockPatterns()
  blockPatterns?: string[];

  @Redact()
  redact?: RedactDto;

  /**
   * How much of a streamed answer is held back so a match split across chunks is caught.
   * The edge raises it to what the route's built-in detectors need (at most 131, an email),
   * so a short setting binds only custom patterns and blockPatterns.
   */
  @IsOptional()
  @IsInt(expecting('an integer from 16 to 4096 (characters)'))
  @Min(16, expecting('an integer from 16 to 4096 (characters)'))
  @Max(4096, expecting('an integer from 16 to 4096 (characters)'))
  streamHoldChars?: number;
}

// A host name as allowedHosts lists it: letters, digits, dots and dashes, `*.` for subdomains.
const MEDIA_HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/**
 * An extension to the spec: image and file URLs in prompts, which the backend fetches
 * itself (a self-hosted one from inside the operator's network).
 */
export class MediaUrlsDto {
  /** Refuse prompts holding them (send the media inline instead). */
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  refuse?: boolean;

  /** With `refuse`, the hosts whose URLs still pass (`*.example.com` for its subdomains). */
  @IsOptional()
  @IsArray(expecting('a list of host names'))
  @Matches(MEDIA_HOST, {
    each: true,
    message: "expected a host name ('images.example.com', or '*.example.com' for its subdomains)",
  })
  allowedHosts?: string[];
}

export class SecurityDto {
  @IsOptional()
  @IsArray(expecting('a list of header names'))
  @Matches(HEADER_NAME, { each: true, message: 'expected an HTTP header name' })
  stripHeaders?: string[];

  @IsOptional()
  @ValidateNested(expecting('a mapping {enabled, blockPatterns, redact}'))
  @Type(() => PromptValidationDto)
  promptValidation?: PromptValidationDto;

  /** An extension to the spec: the same checks on what the model answers. */
  @IsOptional()
  @ValidateNested(expecting('a mapping {enabled, blockPatterns, redact, streamHoldChars}'))
  @Type(() => ResponseValidationDto)
  responseValidation?: ResponseValidationDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {refuse, allowedHosts}'))
  @Type(() => MediaUrlsDto)
  mediaUrls?: MediaUrlsDto;
}

export const PAYLOAD_MAX_BYTES_LIMIT = 262_144;
const MAX_BYTES = `an integer from 256 to ${PAYLOAD_MAX_BYTES_LIMIT} (bytes)`;
const SAMPLE_RATE = 'a number from 0 to 1';

/** An extension to the spec: logs of what was asked and answered (off unless enabled). */
export class PayloadLoggingDto {
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  enabled?: boolean;

  /** Each of the request and the answer is cut at this many UTF-8 bytes. */
  @IsOptional()
  @IsInt(expecting(MAX_BYTES))
  @Min(256, expecting(MAX_BYTES))
  @Max(PAYLOAD_MAX_BYTES_LIMIT, expecting(MAX_BYTES))
  maxBytes?: number;

  /** The share of requests logged. */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, expecting(SAMPLE_RATE))
  @Min(0, expecting(SAMPLE_RATE))
  @Max(1, expecting(SAMPLE_RATE))
  sampleRate?: number;
}
