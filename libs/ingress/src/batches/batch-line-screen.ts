import type { IngressPipeline } from '../ingress-pipeline';
import { AnswerGuard } from '../redaction/answer-guard';
import { refuseUncheckedAnswers, type UncheckedPath } from '../redaction/unchecked-answers';
import type { Screen } from './held-api';

const BATCH_OUTPUT: UncheckedPath = {
  answers: "a batch's answers, in its output file,",
  instead: 'send these calls one by one (a batch of embeddings lines only is taken)',
};

/**
 * A batch input line under the route's prompt rules (a batch's lines never pass `prepare`
 * or the router). A line whose answer the route's answer rules would check (chat,
 * completions, Responses) refuses the upload: its answer comes back in the batch's output
 * file, which no answer rule reads.
 */
export function batchLineScreen(pipeline: IngressPipeline): Screen {
  return (model, operation, body, tally) => {
    if (AnswerGuard.checks(operation)) refuseUncheckedAnswers(pipeline, model, BATCH_OUTPUT);
    return pipeline.screenPrompt(model, operation, body, tally);
  };
}
