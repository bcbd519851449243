// class-transformer's @Type reads decorator metadata, so the polyfill must load first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  IsJsonObject,
  IsMessageContent,
  IsNumberRecord,
  IsStringOrStringArray,
  IsStringRecord,
  IsToolChoice,
} from './openai-validators';
import { type OpenAiUsage } from './openai-usage';

// Request side: class-validator classes checked at ingress. Unknown fields are kept and
// forwarded, because providers add parameters faster than we release.

export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'input_audio'; input_audio: { data: string; format: string } }
  | { type: 'file'; file: { file_id?: string; file_data?: string; filename?: string } }
  | { type: 'refusal'; refusal: string }
  | { type: string; [key: string]: unknown };

export class ChatToolCallFunctionDto {
  @IsString()
  @IsNotEmpty()
  name!: string;

  /** JSON text produced by the model; not parsed here (it may be partial or invalid). */
  @IsString()
  arguments!: string;
}

export class ChatToolCallDto {
  [key: string]: unknown;

  @IsString()
  @IsNotEmpty()
  id!: string;

  @IsIn(['function'])
  type!: 'function';

  @IsDefined()
  @ValidateNested()
  @Type(() => ChatToolCallFunctionDto)
  function!: ChatToolCallFunctionDto;
}

export class ChatMessageDto {
  [key: string]: unknown;

  @IsIn(CHAT_ROLES)
  role!: ChatRole;

  @IsMessageContent()
  content?: string | ChatContentPart[] | null;

  @IsOptional()
  @IsString()
  name?: string;

  @ValidateIf((m: ChatMessageDto) => m.role === 'assistant' && m.tool_calls !== undefined)
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ChatToolCallDto)
  tool_calls?: ChatToolCallDto[];

  @ValidateIf((m: ChatMessageDto) => m.role === 'tool')
  @IsString()
  @IsNotEmpty()
  tool_call_id?: string;
}

export class FunctionDefinitionDto {
  [key: string]: unknown;

  // The provider's rule for tool names; checked here so the client gets a 400 from us.
  @IsString()
  @Matches(/^[a-zA-Z0-9_-]{1,64}$/, {
    message: '$property must be 1-64 letters, digits, underscores or dashes',
  })
  name!: string;

  @IsOptional()
  @IsString()
  description?: string;

  /** A JSON Schema object describing the arguments. */
  @IsOptional()
  @IsJsonObject()
  parameters?: Record<string, unknown>;

  @IsOptional()
  @IsBoolean()
  strict?: boolean;
}

export class ChatToolDto {
  [key: string]: unknown;

  @IsIn(['function', 'custom'])
  type!: 'function' | 'custom';

  @ValidateIf((t: ChatToolDto) => t.type === 'function')
  @IsDefined()
  @ValidateNested()
  @Type(() => FunctionDefinitionDto)
  function?: FunctionDefinitionDto;
}

export class StreamOptionsDto {
  [key: string]: unknown;

  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;
}

/** Sampling and streaming fields both OpenAI generation endpoints accept alike. */
export abstract class SamplingParamsDto {
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number;

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  top_p?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(128)
  n?: number;

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @IsOptional()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto;
}

export class ResponseFormatDto {
  [key: string]: unknown;

  @IsIn(['text', 'json_object', 'json_schema'])
  type!: 'text' | 'json_object' | 'json_schema';

  @ValidateIf((f: ResponseFormatDto) => f.type === 'json_schema')
  @IsJsonObject()
  json_schema?: {
    name: string;
    description?: string;
    schema?: Record<string, unknown>;
    strict?: boolean;
  };
}

export class ChatCompletionRequestDto extends SamplingParamsDto {
  /** Fields we do not model pass through to the provider untouched. */
  [key: string]: unknown;

  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  model!: string;

  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @IsOptional()
  @IsStringOrStringArray(4)
  stop?: string | string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  max_completion_tokens?: number;

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
  @IsNumberRecord(-100, 100)
  logit_bias?: Record<string, number>;

  @IsOptional()
  @IsString()
  user?: string;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ChatToolDto)
  tools?: ChatToolDto[];

  @IsOptional()
  @IsToolChoice()
  tool_choice?: 'none' | 'auto' | 'required' | { type: string; [key: string]: unknown };

  @IsOptional()
  @ValidateNested()
  @Type(() => ResponseFormatDto)
  response_format?: ResponseFormatDto;

  @IsOptional()
  @IsInt()
  seed?: number;

  @IsOptional()
  @IsBoolean()
  parallel_tool_calls?: boolean;

  @IsOptional()
  @IsBoolean()
  logprobs?: boolean;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(20)
  top_logprobs?: number;

  @IsOptional()
  @IsStringRecord()
  metadata?: Record<string, string>;
}

// Response side: plain interfaces; the gateway passes provider responses through and
// builds these only when translating or answering from cache.

export type ChatFinishReason =
  'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatLogprobs {
  content: Array<{
    token: string;
    logprob: number;
    bytes: number[] | null;
    top_logprobs: Array<{ token: string; logprob: number; bytes: number[] | null }>;
  }> | null;
  refusal?: unknown[] | null;
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal?: string | null;
  tool_calls?: ChatToolCall[];
  annotations?: unknown[];
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: ChatFinishReason | null;
  logprobs: ChatLogprobs | null;
}

export interface ChatCompletionResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: OpenAiUsage;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}

export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: {
    role?: 'assistant';
    content?: string | null;
    refusal?: string | null;
    tool_calls?: ChatCompletionChunkToolCall[];
  };
  finish_reason: ChatFinishReason | null;
  logprobs?: ChatLogprobs | null;
}

/** One SSE `data:` payload of a streamed chat completion (`data: [DONE]` ends the stream). */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  /** Present (on a final chunk with no choices) only with `stream_options.include_usage`. */
  usage?: OpenAiUsage | null;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}
