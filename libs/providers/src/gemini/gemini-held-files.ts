import {
  DataPlaneError,
  DataPlaneErrorCode,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import type { ChatPrompt } from '../core/chat-request';

/**
 * A Gemini file lives at the one backend (its key, its project) it was uploaded to: a
 * request naming it is never sent to any other, which would not have it and would learn
 * its URI. Refused with no failover trigger, so the router tries no further backend.
 */
export function refuseFilesHeldElsewhere(prompt: ChatPrompt, target: UpstreamTarget): void {
  for (const turn of prompt.turns) {
    if (turn.role !== 'user') continue;
    for (const file of turn.heldFiles ?? []) {
      const { backend, route } = file.heldBy;
      const sameRoute =
        route === undefined || target.routeName === undefined || route === target.routeName;
      if (backend === target.backendName && sameRoute) continue;
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        `The Gemini file in this request is held by backend "${backend}", which was not the one chosen for this call (load balancing or a cooldown chose "${target.backendName}"); it is not sent elsewhere. Try again, or upload the file for a model served by one Gemini backend.`,
      );
    }
  }
}
