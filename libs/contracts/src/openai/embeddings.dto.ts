import {
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  Min,
} from 'class-validator';
import { IsTextOrTokens } from './openai-validators';

/** `/v1/embeddings` request. Unknown fields pass through. */
export class EmbeddingRequestDto {
  [key: string]: unknown;

  @IsDefined()
  @IsTextOrTokens()
  input!: string | string[] | number[] | number[][];

  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  model!: string;

  @IsOptional()
  @IsIn(['float', 'base64'])
  encoding_format?: 'float' | 'base64';

  @IsOptional()
  @IsInt()
  @Min(1)
  dimensions?: number;

  @IsOptional()
  @IsString()
  user?: string;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** Numbers, or a base64 string of little-endian float32 with `encoding_format: base64`. */
  embedding: number[] | string;
}

export interface EmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
