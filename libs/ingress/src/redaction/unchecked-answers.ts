import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { IngressPipeline } from '../ingress-pipeline';

/** A path whose answers reach the client without passing the answer rules, in words. */
export interface UncheckedPath {
  /** Where its answers go: "a Realtime session's answers". */
  readonly answers: string;
  /** What to use instead: "use chat completions or the Responses API for it". */
  readonly instead: string;
}

const REALTIME_SESSION: UncheckedPath = {
  answers: "a Realtime session's answers",
  instead: 'use chat completions or the Responses API for it',
};

/**
 * Refuses a path no answer rule reads on a route that checks answers (a Realtime session's
 * events, a batch's output file): the route keeps its promise by not opening it. A 400
 * naming the rule set and the model, never an answer.
 */
export function refuseUncheckedAnswers(
  pipeline: IngressPipeline,
  model: string,
  path: UncheckedPath = REALTIME_SESSION,
): void {
  if (!pipeline.checksAnswers(model)) return;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `The route serving '${model}' checks answers (security.responseValidation), and ` +
      `${path.answers} would reach the client unchecked: ${path.instead}`,
    { param: 'model' },
  );
}
