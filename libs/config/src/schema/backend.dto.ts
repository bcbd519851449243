// Shape of one entry of `spec.backends`, as written in the YAML.
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { PROVIDER_ALIASES, PROVIDER_KINDS } from '../domain/providers';
import {
  FitsTimer,
  IsDuration,
  NotAnApiKey,
  REQUIRED,
  SAFE_NAME,
  SAFE_NAME_EXPECTATION,
  expecting,
} from './validators';

export const AUTH_TYPES = ['APIKey', 'AWSSigV4', 'None'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

// Google Cloud project ids (6-30 characters), optionally domain-scoped ("example.com:proj").
// Vertex URLs take the project's number as well as its id.
const GCP_PROJECT = /^(?:(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]|[1-9][0-9]{5,18})$/;
const GCP_PROJECT_EXPECTATION =
  'a Google Cloud project id (6-30 lowercase letters, digits or hyphens, starting with a letter) or project number';

/** YAML reads an unquoted project number as a number; Vertex takes it as the id's text. */
function projectNumberAsText({ value }: { value: unknown }): unknown {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
}
// The location becomes part of the host name, so only a region's shape (or global) passes.
const GCP_LOCATION = /^(?:global|[a-z]+(?:-[a-z]+[0-9]+)?)$/;
const GCP_LOCATION_EXPECTATION = 'a Google Cloud region such as "us-central1", or "global"';

const PROVIDER_NAMES = [...PROVIDER_KINDS, ...Object.keys(PROVIDER_ALIASES)];

export class ApiKeyRefDto {
  @IsDefined(REQUIRED)
  @Matches(SAFE_NAME, expecting(SAFE_NAME_EXPECTATION))
  @NotAnApiKey()
  name!: string;

  @IsOptional()
  @Matches(SAFE_NAME, expecting(SAFE_NAME_EXPECTATION))
  @NotAnApiKey()
  key?: string;

  /**
   * As Kubernetes' `secretKeyRef.optional`: the key may be missing, whatever the load's
   * missingSecrets policy; the backend is then skipped until it appears.
   */
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  optional?: boolean;
}

export class BackendAuthDto {
  @IsOptional()
  @IsIn(AUTH_TYPES, expecting(`one of ${AUTH_TYPES.join(', ')}`))
  type?: AuthType;

  @IsOptional()
  @ValidateNested(expecting('a mapping {name, key, optional}'))
  @Type(() => ApiKeyRefDto)
  apiKeyRef?: ApiKeyRefDto;

  @IsOptional()
  @Matches(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, expecting('an HTTP header name'))
  headerName?: string;

  @IsOptional()
  @IsString(expecting('a string such as "Bearer "'))
  headerPrefix?: string;
}

export class BackendDto {
  @IsDefined(REQUIRED)
  @IsString(expecting('a string'))
  @MinLength(1, expecting('a non-empty string'))
  name!: string;

  @IsOptional()
  @IsInt(expecting('an integer >= 0 (lower is tried first)'))
  @Min(0, expecting('an integer >= 0 (lower is tried first)'))
  priority?: number;

  @IsOptional()
  @IsInt(expecting('an integer >= 0 (its share among backends of the same priority)'))
  @Min(0, expecting('an integer >= 0 (its share among backends of the same priority)'))
  weight?: number;

  @IsOptional()
  @IsIn(PROVIDER_NAMES, expecting(`one of ${PROVIDER_KINDS.join(', ')}`))
  provider?: string;

  @IsOptional()
  @IsString(expecting('a model name string'))
  @MinLength(1, expecting('a non-empty model name'))
  model?: string;

  @IsOptional()
  @IsString(expecting('a model name string'))
  @MinLength(1, expecting('a non-empty model name'))
  modelNameOverride?: string;

  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    expecting('an http(s) URL such as "http://vllm:8000/v1"'),
  )
  baseUrl?: string;

  /** Provider vertex: the Google Cloud project id the models are called in. */
  @IsOptional()
  @Transform(projectNumberAsText, { toClassOnly: true })
  @Matches(GCP_PROJECT, expecting(GCP_PROJECT_EXPECTATION))
  project?: string;

  /** Provider vertex: the region (us-central1, europe-west4, ...) or global. */
  @IsOptional()
  @Matches(GCP_LOCATION, expecting(GCP_LOCATION_EXPECTATION))
  location?: string;

  @IsOptional()
  @ValidateNested(expecting('a mapping {type, apiKeyRef, headerName, headerPrefix}'))
  @Type(() => BackendAuthDto)
  auth?: BackendAuthDto;

  @IsOptional()
  @IsDuration()
  @FitsTimer()
  requestTimeout?: string;

  @IsOptional()
  @IsDuration()
  @FitsTimer()
  firstByteTimeout?: string;

  @IsOptional()
  @IsDuration()
  @FitsTimer()
  streamIdleTimeout?: string;
}
