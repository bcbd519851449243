// Shapes of caching, deduplication, retry and request-security settings.
import { Transform, Type, plainToInstance } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInstance,
  IsInt,
  IsOptional,
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
import { IsByteSize, IsDuration, IsRegexSource, REQUIRED, expecting } from './validators';

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
  window?: string;

  @IsOptional()
  @IsArray(expecting(`a list of ${KEY_COMPONENTS}`))
  @IsIn(CACHE_KEY_COMPONENTS, { each: true, message: `expected ${KEY_COMPONENTS}` })
  keyComponents?: string[];
}

export class RetryDto {
  @IsOptional()
  @IsInt(expecting('an integer >= 1'))
  @Min(1, expecting('an integer >= 1'))
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

export class PromptValidationDto {
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  enabled?: boolean;

  @IsOptional()
  @IsArray(expecting('a list of regular expressions'))
  @IsRegexSource({ each: true })
  blockPatterns?: string[];
}

export class SecurityDto {
  @IsOptional()
  @IsArray(expecting('a list of header names'))
  @Matches(HEADER_NAME, { each: true, message: 'expected an HTTP header name' })
  stripHeaders?: string[];

  @IsOptional()
  @ValidateNested(expecting('a mapping {enabled, blockPatterns}'))
  @Type(() => PromptValidationDto)
  promptValidation?: PromptValidationDto;
}
