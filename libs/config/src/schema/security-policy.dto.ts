// Shape of a SecurityPolicy document: JWT providers and claim-to-header mapping.
import { Type } from 'class-transformer';
import {
  IsArray,
  IsDefined,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { GatewayDocumentDto } from './route.dto';
import { REQUIRED, expecting } from './validators';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export class TargetRefDto {
  @IsDefined(REQUIRED)
  @IsString(expecting('a kind such as "AIGatewayRoute"'))
  kind!: string;

  @IsDefined(REQUIRED)
  @IsString(expecting('the name of the target'))
  name!: string;

  @IsOptional()
  @IsString(expecting('an API group'))
  group?: string;
}

export class RemoteJwksDto {
  @IsDefined(REQUIRED)
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    expecting('an http(s) URL'),
  )
  uri!: string;
}

export class ClaimToHeaderDto {
  @IsDefined(REQUIRED)
  @IsString(expecting('a claim name'))
  @MinLength(1, expecting('a claim name'))
  claim!: string;

  @IsDefined(REQUIRED)
  @Matches(HEADER_NAME, expecting('an HTTP header name'))
  header!: string;
}

export class JwtProviderDto {
  @IsDefined(REQUIRED)
  @IsString(expecting('a provider name'))
  @MinLength(1, expecting('a provider name'))
  name!: string;

  @IsDefined(REQUIRED)
  @IsString(expecting('the issuer (iss) the tokens carry'))
  @MinLength(1, expecting('the issuer (iss) the tokens carry'))
  issuer!: string;

  @IsDefined(REQUIRED)
  @ValidateNested(expecting('a mapping {uri}'))
  @Type(() => RemoteJwksDto)
  remoteJWKS!: RemoteJwksDto;

  @IsOptional()
  @IsArray(expecting('a list of {claim, header}'))
  @ValidateNested({ each: true })
  @Type(() => ClaimToHeaderDto)
  claimToHeaders?: ClaimToHeaderDto[];

  @IsOptional()
  @IsArray(expecting('a list of audience strings'))
  @IsString({ each: true, message: 'expected an audience string' })
  audiences?: string[];
}

export class JwtDto {
  @IsDefined(REQUIRED)
  @IsArray(expecting('a list of JWT providers'))
  @ValidateNested({ each: true })
  @Type(() => JwtProviderDto)
  providers!: JwtProviderDto[];
}

export class SecurityPolicySpecDto {
  @IsOptional()
  @IsArray(expecting('a list of {kind, name}'))
  @ValidateNested({ each: true })
  @Type(() => TargetRefDto)
  targetRefs?: TargetRefDto[];

  @IsOptional()
  @ValidateNested(expecting('a mapping {providers}'))
  @Type(() => JwtDto)
  jwt?: JwtDto;
}

export class SecurityPolicyDocumentDto extends GatewayDocumentDto {
  @IsDefined(REQUIRED)
  @ValidateNested(expecting('a mapping {targetRefs, jwt}'))
  @Type(() => SecurityPolicySpecDto)
  spec!: SecurityPolicySpecDto;
}
