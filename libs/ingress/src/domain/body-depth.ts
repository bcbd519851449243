import {
  DataPlaneError,
  DataPlaneErrorCode,
  MAX_BODY_DEPTH,
  nestsDeeperThan,
} from '@aigw/contracts/data-plane';

/** Refuses a request body nested past MAX_BODY_DEPTH, before anything walks it. */
export function refuseDeepBody(body: unknown): void {
  if (nestsDeeperThan(body, MAX_BODY_DEPTH)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `The request body nests arrays or objects deeper than ${MAX_BODY_DEPTH} levels`,
    );
  }
}
