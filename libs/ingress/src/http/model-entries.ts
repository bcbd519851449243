import type { ModelList, OpenAiModel } from '@aigw/contracts';

/** A virtual model name as OpenAI's models API lists it. */
export function modelEntry(id: string): OpenAiModel {
  return { id, object: 'model', created: 0, owned_by: 'ai-gateway' };
}

/** `GET /v1/models`. */
export function modelList(ids: readonly string[]): ModelList {
  return { object: 'list', data: ids.map(modelEntry) };
}

/** A virtual model name as Anthropic's models API lists it (what we know of it: its name). */
export interface AnthropicModel {
  readonly type: 'model';
  readonly id: string;
  readonly display_name: string;
  readonly created_at: string;
  readonly capabilities: null;
  readonly deprecated_at: null;
  readonly lifecycle: 'active';
  readonly line: null;
  readonly max_input_tokens: null;
  readonly max_tokens: null;
  readonly retires_at: null;
}

export function anthropicModelEntry(id: string): AnthropicModel {
  return {
    type: 'model',
    id,
    display_name: id,
    created_at: '1970-01-01T00:00:00Z',
    capabilities: null,
    deprecated_at: null,
    lifecycle: 'active',
    line: null,
    max_input_tokens: null,
    max_tokens: null,
    retires_at: null,
  };
}

export interface AnthropicModelList {
  readonly data: readonly AnthropicModel[];
  readonly has_more: false;
  readonly first_id: string | null;
  readonly last_id: string | null;
}

/** `GET /v1/models` for the Anthropic SDK: one page holding every virtual model. */
export function anthropicModelList(ids: readonly string[]): AnthropicModelList {
  return {
    data: ids.map(anthropicModelEntry),
    has_more: false,
    first_id: ids[0] ?? null,
    last_id: ids.at(-1) ?? null,
  };
}

/** The Anthropic SDK sends `anthropic-version` on every call; OpenAI's clients never do. */
export function wantsAnthropicShape(headers: Readonly<Record<string, unknown>>): boolean {
  return typeof headers['anthropic-version'] === 'string';
}
