import type { ModelList, OpenAiModel } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/** A virtual model name as OpenAI's models API lists it. */
export function modelEntry(id: string): OpenAiModel {
  return { id, object: 'model', created: 0, owned_by: 'ai-gateway' };
}

/** `GET /v1/models`. */
export function modelList(ids: readonly string[]): ModelList {
  return { object: 'list', data: ids.map(modelEntry) };
}

/** `GET /v1/models/{id}`: the entry, or OpenAI's 404 for a name this gateway does not serve. */
export function modelById(ids: readonly string[], id: string): OpenAiModel {
  if (!ids.includes(id)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.ModelNotFound,
      `The model "${id.slice(0, 256)}" does not exist or is not served by this gateway`,
      { param: 'model' },
    );
  }
  return modelEntry(id);
}
