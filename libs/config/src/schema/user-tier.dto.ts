// Shape of a `userTiers` entry (service plans chosen by a request header).
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { REQUIRED, expecting } from './validators';

export class TierSelectorDto {
  @IsDefined(REQUIRED)
  @Matches(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, expecting('an HTTP header name'))
  header!: string;

  @IsDefined(REQUIRED)
  @IsString(expecting('the header value that selects this tier'))
  value!: string;
}

export class TierTokenBudgetDto {
  @IsOptional()
  // 0 freezes the tier: every call of its users is refused at admission.
  @IsInt(expecting('a whole number of tokens per day >= 0 (0 allows none)'))
  @Min(0, expecting('a whole number of tokens per day >= 0 (0 allows none)'))
  daily?: number;

  @IsOptional()
  @IsBoolean(expecting('true or false'))
  unlimited?: boolean;
}

export class CostTrackingDto {
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  enabled?: boolean;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, expecting('US dollars per day (>= 0)'))
  @Min(0, expecting('US dollars per day (>= 0)'))
  alertThreshold?: number;
}

export class UserTierDto {
  @IsDefined(REQUIRED)
  @IsString(expecting('a tier name'))
  @MinLength(1, expecting('a tier name'))
  name!: string;

  @IsDefined(REQUIRED)
  @ValidateNested(expecting('a mapping {header, value}'))
  @Type(() => TierSelectorDto)
  selector!: TierSelectorDto;

  @IsDefined(REQUIRED)
  @ValidateNested(expecting('a mapping {daily} or {unlimited: true}'))
  @Type(() => TierTokenBudgetDto)
  tokenBudget!: TierTokenBudgetDto;

  @IsOptional()
  @IsArray(expecting('a list of model names'))
  @IsString({ each: true, message: 'expected a model name' })
  allowedModels?: string[];

  @IsOptional()
  @ValidateNested(expecting('a mapping {enabled, alertThreshold}'))
  @Type(() => CostTrackingDto)
  costTracking?: CostTrackingDto;

  /** Extension to the spec: the tier for requests matching no selector (one per list). */
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  default?: boolean;

  /**
   * Extension to the spec: on a JWT route, any caller may choose this tier with its
   * selector header, whatever its token grants. Without it a tier header there selects
   * only the tier the token's claims (or the default) already grant.
   */
  @IsOptional()
  @IsBoolean(expecting('true or false'))
  clientSelectable?: boolean;
}

/** A kind-less document holding only `userTiers:` (the spec's "Pattern 1"). */
export class UserTiersDocumentDto {
  @IsDefined(REQUIRED)
  @IsArray(expecting('a list of tiers'))
  @ValidateNested({ each: true })
  @Type(() => UserTierDto)
  userTiers!: UserTierDto[];
}
