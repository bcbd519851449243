import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { IngressPipeline } from '../ingress-pipeline';

/**
 * A Realtime session's answers (text deltas, audio transcripts, `response.done`) reach the
 * client as the backend's events, over a WebSocket or a WebRTC data channel, and no answer
 * rule reads them: a route that checks answers keeps its promise by taking no session.
 */
export function refuseUncheckedAnswers(pipeline: IngressPipeline, model: string): void {
  if (!pipeline.checksAnswers(model)) return;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `The route serving '${model}' checks answers (security.responseValidation), and a ` +
      "Realtime session's answers would reach the client unchecked: use chat completions " +
      'or the Responses API for it',
    { param: 'model' },
  );
}
