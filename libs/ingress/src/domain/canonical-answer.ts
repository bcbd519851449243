import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

/**
 * The first choice of a canonical (OpenAI) chat answer, which the edges of the other APIs
 * translate; an answer without one is the backend's fault, not a 500.
 */
export function firstChoice(completion: JsonObject): JsonObject {
  const choices = Array.isArray(completion.choices) ? (completion.choices as JsonObject[]) : [];
  const choice = choices[0];
  if (!choice) {
    throw new DataPlaneError(
      DataPlaneErrorCode.UpstreamBadResponse,
      'The backend answered without a choice',
    );
  }
  return choice;
}
