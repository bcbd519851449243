import { type ClassConstructor } from 'class-transformer';
import { type ValidationIssue } from '../contracts.errors';
import { type Result } from '../result';
import { LENIENT_VALIDATION, validatePlain } from '../validation/validate-plain';
import { ChatCompletionRequestDto } from './chat-completions.dto';
import { CompletionRequestDto } from './completions.dto';
import { EmbeddingRequestDto } from './embeddings.dto';

// Ingress validators: take the one JSON.parse result of the body and return a typed
// instance that still carries every unknown field, or issues naming each bad field.

const validator =
  <T extends object>(cls: ClassConstructor<T>) =>
  (body: unknown): Result<T, ValidationIssue[]> =>
    validatePlain(cls, body, LENIENT_VALIDATION);

export const validateChatCompletionRequest = validator(ChatCompletionRequestDto);
export const validateCompletionRequest = validator(CompletionRequestDto);
export const validateEmbeddingRequest = validator(EmbeddingRequestDto);
