// Shapes of a route's cost and limit policies: failover, request costs, token budget,
// token rate limits, user identification and cost control.
import { Type } from 'class-transformer';
import {
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Min,
  Max,
  MinLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import {
  FAILOVER_TRIGGERS,
  LOAD_BALANCING_STRATEGIES,
  REQUEST_COST_TYPES,
} from '../domain/gateway-config';
import {
  FitsTimer,
  IsDuration,
  IsPeriod,
  IsPriceMap,
  MAX_ATTEMPTS,
  REQUIRED,
  expecting,
} from './validators';

const FINITE = { allowNaN: false, allowInfinity: false } as const;
// A limit of 0 allows nothing (every call is refused at admission); it never means "no limit".
const TOKEN_LIMIT = 'a whole number of tokens >= 0 (0 allows none)';
const REQUEST_LIMIT = 'a whole number of requests >= 0 (0 allows none)';

export class FailoverDto {
  @IsOptional()
  @IsArray(expecting(`a list of ${FAILOVER_TRIGGERS.join(', ')}`))
  @IsIn(FAILOVER_TRIGGERS, {
    each: true,
    message: `expected one of ${FAILOVER_TRIGGERS.join(', ')}`,
  })
  on?: string[];

  // Each attempt calls a backend: an unbounded count let one request hammer failing ones.
  @IsOptional()
  @IsInt(expecting(`an integer from 0 to ${MAX_ATTEMPTS}`))
  @Min(0, expecting(`an integer from 0 to ${MAX_ATTEMPTS}`))
  @Max(MAX_ATTEMPTS, expecting(`at most ${MAX_ATTEMPTS} (each attempt is a backend call)`))
  retryAttempts?: number;

  @IsOptional()
  @IsDuration()
  @FitsTimer()
  retryDelay?: string;
}

/** `loadBalancing` (an extension to the spec): how backends of equal priority are picked. */
export class LoadBalancingDto {
  @IsOptional()
  @IsIn(LOAD_BALANCING_STRATEGIES, expecting(`one of ${LOAD_BALANCING_STRATEGIES.join(', ')}`))
  strategy?: string;

  @IsOptional()
  @IsNumber(FINITE, expecting('a percentage from 0 to 100'))
  @Min(0, expecting('a percentage from 0 to 100'))
  @Max(100, expecting('a percentage from 0 to 100'))
  explorationPercent?: number;
}

export class RequestCostDto {
  @IsDefined(REQUIRED)
  @IsIn(REQUEST_COST_TYPES, expecting(`one of ${REQUEST_COST_TYPES.join(', ')}`))
  type!: string;

  @IsOptional()
  @IsNumber(FINITE, expecting('a number >= 0'))
  @Min(0, expecting('a number >= 0'))
  weight?: number;
}

export class ModelCostDto {
  @IsDefined(REQUIRED)
  @IsString(expecting('a model name'))
  @MinLength(1, expecting('a model name'))
  model!: string;

  @IsDefined(REQUIRED)
  @IsNumber(FINITE, expecting('a number >= 0'))
  @Min(0, expecting('a number >= 0'))
  multiplier!: number;
}

export class PerUserBudgetDto {
  @IsDefined(REQUIRED)
  @IsInt(expecting(TOKEN_LIMIT))
  @Min(0, expecting(TOKEN_LIMIT))
  limit!: number;

  @IsDefined(REQUIRED)
  @IsPeriod()
  period!: string;
}

export class PerMinuteBudgetDto {
  @IsDefined(REQUIRED)
  @IsInt(expecting(TOKEN_LIMIT))
  @Min(0, expecting(TOKEN_LIMIT))
  limit!: number;
}

export class TokenBudgetDto {
  @IsOptional()
  @ValidateNested(expecting('a mapping {limit, period}'))
  @Type(() => PerUserBudgetDto)
  perUser?: PerUserBudgetDto;

  @IsOptional()
  @ValidateNested(expecting('a mapping {limit}'))
  @Type(() => PerMinuteBudgetDto)
  perMinute?: PerMinuteBudgetDto;
}

export class PerUserRateLimitDto {
  @IsOptional()
  @IsInt(expecting(TOKEN_LIMIT))
  @Min(0, expecting(TOKEN_LIMIT))
  inputTokensPerMinute?: number;

  @IsOptional()
  @IsInt(expecting(TOKEN_LIMIT))
  @Min(0, expecting(TOKEN_LIMIT))
  outputTokensPerMinute?: number;

  @IsOptional()
  @IsInt(expecting(TOKEN_LIMIT))
  @Min(0, expecting(TOKEN_LIMIT))
  totalTokensPerDay?: number;

  /** Extension to the spec: calls per minute, whatever their size. */
  @IsOptional()
  @IsInt(expecting(REQUEST_LIMIT))
  @Min(0, expecting(REQUEST_LIMIT))
  requestsPerMinute?: number;
}

export class PerModelRateLimitDto {
  // Required unless requestsPerMinute (an extension) gives the model its limit.
  @ValidateBy({
    name: 'modelTokensPerMinute',
    validator: {
      validate: (value: unknown, args) =>
        value === undefined
          ? (args?.object as PerModelRateLimitDto).requestsPerMinute !== undefined
          : Number.isInteger(value) && (value as number) >= 0,
      defaultMessage: (args) =>
        args?.value === undefined
          ? 'is required (or requestsPerMinute)'
          : `expected ${TOKEN_LIMIT}`,
    },
  })
  tokensPerMinute?: number;

  /** Extension to the spec: calls the model serves per minute, across its callers. */
  @IsOptional()
  @IsInt(expecting(REQUEST_LIMIT))
  @Min(0, expecting(REQUEST_LIMIT))
  requestsPerMinute?: number;
}

export class TokenRateLimitDto {
  @IsOptional()
  @ValidateNested(
    expecting(
      'a mapping {inputTokensPerMinute, outputTokensPerMinute, totalTokensPerDay, requestsPerMinute}',
    ),
  )
  @Type(() => PerUserRateLimitDto)
  perUser?: PerUserRateLimitDto;

  // A mapping of model name -> limits; class-transformer builds a Map from the object.
  @IsOptional()
  @ValidateNested({
    each: true,
    message: 'expected a mapping of model name to {tokensPerMinute, requestsPerMinute}',
  })
  @Type(() => PerModelRateLimitDto)
  perModel?: Map<string, PerModelRateLimitDto>;
}

export class JwtUserIdDto {
  @IsDefined(REQUIRED)
  @IsString(expecting('a claim name such as "sub"'))
  @MinLength(1, expecting('a claim name such as "sub"'))
  claim!: string;

  @IsDefined(REQUIRED)
  @IsString(expecting('the name of a JWT provider'))
  @MinLength(1, expecting('the name of a JWT provider'))
  provider!: string;
}

export class UserIdentificationDto {
  @IsOptional()
  @Matches(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, expecting('an HTTP header name'))
  header?: string;

  @IsOptional()
  @ValidateNested(expecting('a mapping {claim, provider}'))
  @Type(() => JwtUserIdDto)
  jwt?: JwtUserIdDto;
}

const RATE_FIELDS =
  'inputPer1k, outputPer1k, cachedInputPer1k, cacheWritePer1k, cacheWrite1hPer1k, imageInputPer1k, imageOutputPer1k';

/** US dollars per `unit` (1000 input tokens, a minute of audio, an image): a finite number >= 0. */
function UsDollarsPer(unit: string): PropertyDecorator {
  const expected = expecting(`US dollars per ${unit} (a number >= 0)`);
  const isNumber = IsNumber(FINITE, expected);
  const atLeastZero = Min(0, expected);
  return (target, key) => {
    isNumber(target, key);
    atLeastZero(target, key);
  };
}

/** The prompt-cache rates a price and each of its long-prompt tiers may set. */
class CacheRatesDto {
  @IsOptional()
  @UsDollarsPer('1000 input tokens read from cache')
  cachedInputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 input tokens written to cache')
  cacheWritePer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 input tokens written to cache for an hour')
  cacheWrite1hPer1k?: number;
}

/** A long-prompt tier of a price: the rates it changes, past `aboveInputTokens`. */
export class PriceTierDto extends CacheRatesDto {
  @IsDefined(REQUIRED)
  @IsInt(expecting('a number of prompt tokens (a whole number >= 0)'))
  @Min(0, expecting('a number of prompt tokens (a whole number >= 0)'))
  aboveInputTokens!: number;

  @IsOptional()
  @UsDollarsPer('1000 input tokens')
  inputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 output tokens')
  outputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 image input tokens')
  imageInputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 image output tokens')
  imageOutputPer1k?: number;
}

export class ModelPricingDto extends CacheRatesDto {
  @IsDefined(REQUIRED)
  @UsDollarsPer('1000 input tokens')
  inputPer1k!: number;

  @IsDefined(REQUIRED)
  @UsDollarsPer('1000 output tokens')
  outputPer1k!: number;

  @IsOptional()
  @UsDollarsPer('1000 image input tokens')
  imageInputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 image output tokens')
  imageOutputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 audio input tokens')
  audioInputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 audio output tokens')
  audioOutputPer1k?: number;

  @IsOptional()
  @UsDollarsPer('minute of audio')
  perMinute?: number;

  @IsOptional()
  @UsDollarsPer('1000 characters spoken')
  per1kCharacters?: number;

  @IsOptional()
  @UsDollarsPer('image')
  perImage?: number;

  @IsOptional()
  @IsPriceMap('a mapping of quality/size to US dollars per image (numbers >= 0)')
  perImageVariants?: Record<string, number>;

  @IsOptional()
  @UsDollarsPer('1000 search units')
  per1kSearches?: number;

  @IsOptional()
  @UsDollarsPer('1000 web searches')
  webSearchPer1k?: number;

  @IsOptional()
  @UsDollarsPer('1000 grounded prompts')
  groundedPromptPer1k?: number;

  @IsOptional()
  @IsPriceMap('a mapping of service tier to its token price multiplier (numbers >= 0)')
  serviceTierFactors?: Record<string, number>;

  @IsOptional()
  @IsArray(expecting(`a list of {aboveInputTokens, ${RATE_FIELDS}}`))
  @ValidateNested(expecting(`a mapping {aboveInputTokens, ${RATE_FIELDS}}`, { each: true }))
  @Type(() => PriceTierDto)
  tiers?: PriceTierDto[];
}

export class CostControlDto {
  @IsOptional()
  // 0 freezes spend: every call is refused at admission.
  @IsNumber(FINITE, expecting('US dollars (a number >= 0; 0 allows no spend)'))
  @Min(0, expecting('US dollars (a number >= 0; 0 allows no spend)'))
  maxDailyCostPerUser?: number;

  @IsOptional()
  @IsNumber(FINITE, expecting('US dollars (a number >= 0)'))
  @Min(0, expecting('US dollars (a number >= 0)'))
  alertThreshold?: number;

  @IsOptional()
  @ValidateNested({
    each: true,
    message:
      'expected a mapping of model name to {inputPer1k, outputPer1k, cachedInputPer1k, cacheWritePer1k, cacheWrite1hPer1k, imageInputPer1k, imageOutputPer1k, audioInputPer1k, audioOutputPer1k, perMinute, per1kCharacters, perImage, perImageVariants, per1kSearches, webSearchPer1k, groundedPromptPer1k, serviceTierFactors, tiers}',
  })
  @Type(() => ModelPricingDto)
  modelPricing?: Map<string, ModelPricingDto>;
}
