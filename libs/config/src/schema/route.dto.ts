// Shape of an AIGatewayRoute document and its spec.
import { Type } from 'class-transformer';
import {
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  ValidateNested,
} from 'class-validator';
import { BackendDto } from './backend.dto';
import {
  CostControlDto,
  FailoverDto,
  LoadBalancingDto,
  ModelCostDto,
  RequestCostDto,
  TokenBudgetDto,
  TokenRateLimitDto,
  UserIdentificationDto,
} from './policy.dto';
import {
  CachingDto,
  DeduplicationDto,
  PayloadLoggingDto,
  RetryDto,
  SecurityDto,
} from './traffic.dto';
import { UserTierDto } from './user-tier.dto';
import { REQUIRED, SAFE_NAME, expecting } from './validators';

export const ROUTE_API_VERSIONS = [
  'gateway.envoyproxy.io/v1alpha1',
  'aigateway.envoyproxy.io/v1alpha1',
] as const;

export class MetadataDto {
  @IsDefined(REQUIRED)
  @Matches(SAFE_NAME, expecting('a name of letters, digits, ".", "_" or "-"'))
  name!: string;

  // Kubernetes metadata that may ride along; the gateway ignores it.
  @IsOptional()
  @IsString(expecting('a string'))
  namespace?: string;

  @IsOptional()
  @IsObject(expecting('a mapping of strings'))
  labels?: Record<string, string>;

  @IsOptional()
  @IsObject(expecting('a mapping of strings'))
  annotations?: Record<string, string>;
}

export class RouteSpecDto {
  @IsOptional()
  @IsArray(expecting('a list of backends'))
  @ValidateNested({ each: true })
  @Type(() => BackendDto)
  backends?: BackendDto[];

  @IsOptional()
  @ValidateNested(expecting('a mapping {on, retryAttempts, retryDelay}'))
  @Type(() => FailoverDto)
  failover?: FailoverDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {strategy, explorationPercent}'))
  @Type(() => LoadBalancingDto)
  loadBalancing?: LoadBalancingDto;

  @IsOptional()
  @IsArray(expecting('a list of {type, weight}'))
  @ValidateNested({ each: true })
  @Type(() => RequestCostDto)
  llmRequestCosts?: RequestCostDto[];

  @IsOptional()
  @IsArray(expecting('a list of {model, multiplier}'))
  @ValidateNested({ each: true })
  @Type(() => ModelCostDto)
  modelCosts?: ModelCostDto[];

  @IsOptional()
  @ValidateNested(expecting('a mapping {perUser, perMinute}'))
  @Type(() => TokenBudgetDto)
  tokenBudget?: TokenBudgetDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {perUser, perModel}'))
  @Type(() => TokenRateLimitDto)
  tokenRateLimit?: TokenRateLimitDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {header} or {jwt: {claim, provider}}'))
  @Type(() => UserIdentificationDto)
  userIdentification?: UserIdentificationDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {maxDailyCostPerUser, alertThreshold, modelPricing}'))
  @Type(() => CostControlDto)
  costControl?: CostControlDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {enabled, ttl, keyComponents, maxSize, backend}'))
  @Type(() => CachingDto)
  caching?: CachingDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {enabled, window, keyComponents}'))
  @Type(() => DeduplicationDto)
  deduplication?: DeduplicationDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {maxAttempts, fallbackStrategy, fallbackOrder}'))
  @Type(() => RetryDto)
  retry?: RetryDto;

  @IsOptional()
  @ValidateNested(
    expecting('a mapping {stripHeaders, promptValidation, responseValidation, mediaUrls}'),
  )
  @Type(() => SecurityDto)
  security?: SecurityDto;

  /** An extension to the spec: logs of prompts and answers, off by default. */
  @IsOptional()
  @ValidateNested(expecting('a mapping {enabled, maxBytes, sampleRate}'))
  @Type(() => PayloadLoggingDto)
  payloadLogging?: PayloadLoggingDto;

  @IsOptional()
  @IsArray(expecting('a list of tiers'))
  @ValidateNested({ each: true })
  @Type(() => UserTierDto)
  userTiers?: UserTierDto[];
}

/** Top-level keys a route spec accepts (used to recognise kind-less route documents). */
export const ROUTE_SPEC_KEYS: readonly string[] = [
  'backends',
  'failover',
  'loadBalancing',
  'llmRequestCosts',
  'modelCosts',
  'tokenBudget',
  'tokenRateLimit',
  'userIdentification',
  'costControl',
  'caching',
  'deduplication',
  'retry',
  'security',
  'userTiers',
  'payloadLogging',
];

/** What every document of the gateway's kinds carries besides its spec. */
export abstract class GatewayDocumentDto {
  @IsOptional()
  @IsIn(ROUTE_API_VERSIONS, expecting(ROUTE_API_VERSIONS.join(' or ')))
  apiVersion?: string;

  @IsDefined(REQUIRED)
  @IsString()
  kind!: string;

  @IsDefined(REQUIRED)
  @ValidateNested(expecting('a mapping {name}'))
  @Type(() => MetadataDto)
  metadata!: MetadataDto;
}

export class RouteDocumentDto extends GatewayDocumentDto {
  @IsDefined(REQUIRED)
  @ValidateNested(expecting('a mapping of route settings'))
  @Type(() => RouteSpecDto)
  spec!: RouteSpecDto;
}
