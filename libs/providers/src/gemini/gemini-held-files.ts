import type { UpstreamTarget } from '@aigw/contracts/data-plane';
import { heldFileRefused, type ChatPrompt } from '../core/chat-request';

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
      throw heldFileRefused(backend, target.backendName);
    }
  }
}
