// class-transformer's @Type reads decorator metadata, so the polyfill must load first.
import 'reflect-metadata';
import {
  IsBoolean,
  IsDefined,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { SamplingParamsDto } from './chat-completions.dto';
import { type OpenAiUsage } from './openai-usage';
import { IsNumberRecord, IsStringOrStringArray, IsTextOrTokens } from './openai-validators';

/** The legacy `/v1/completions` request. Unknown fields pass through. */
export class CompletionRequestDto extends SamplingParamsDto {
  [key: string]: unknown;

  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  model!: string;

  @IsDefined()
  @IsTextOrTokens()
  prompt!: string | string[] | number[] | number[][];

  @IsOptional()
  @IsString()
  suffix?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  max_tokens?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5)
  logprobs?: number;

  @IsOptional()
  @IsBoolean()
  echo?: boolean;

  @IsOptional()
  @IsStringOrStringArray(4)
  stop?: string | string[];

  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  presence_penalty?: number;

  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  frequency_penalty?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  best_of?: number;

  @IsOptional()
  @IsNumberRecord(-100, 100)
  logit_bias?: Record<string, number>;

  @IsOptional()
  @IsString()
  user?: string;

  @IsOptional()
  @IsInt()
  seed?: number;
}

export interface CompletionChoice {
  text: string;
  index: number;
  logprobs: {
    tokens?: string[];
    token_logprobs?: number[];
    top_logprobs?: Array<Record<string, number>>;
    text_offset?: number[];
  } | null;
  finish_reason: 'stop' | 'length' | 'content_filter' | null;
}

/** Also the shape of each streamed chunk (with partial `text`). */
export interface CompletionResponse {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: OpenAiUsage;
  system_fingerprint?: string;
}
