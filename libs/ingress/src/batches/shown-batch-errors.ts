import { textWithoutBackendIdentity, type JsonObject } from '@aigw/contracts/data-plane';
import type { HeldRecord } from './held-objects';

/**
 * A batch's `errors` (OpenAI's list of why it failed: "Enqueued token limit reached for
 * gpt-4o-mini in organization org-...") in words that name the model the owner uploaded
 * for, not what the backend runs (the record's model, or the batch's own `model`), nor the
 * backend's account. Anything not such a list is shown as it came.
 */
export function shownBatchErrors(record: HeldRecord, answer: JsonObject): unknown {
  const errors = answer.errors;
  if (!isObject(errors) || !Array.isArray(errors.data)) return errors;
  const sentModels = new Set([record.upstreamModel]);
  if (typeof answer.model === 'string') sentModels.add(answer.model);
  const shown = (message: string): string =>
    [...sentModels].reduce(
      (text, sentModel) =>
        textWithoutBackendIdentity(text, { sentModel, requestedModel: record.model }),
      message,
    );
  return {
    ...errors,
    data: errors.data.map((error: unknown) =>
      isObject(error) && typeof error.message === 'string'
        ? { ...error, message: shown(error.message) }
        : error,
    ),
  };
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
