import {
  checkTextOrTokens,
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';

// The shapes of an operation's text fields that the prompt rules read. A body carrying
// text in another shape (an object for a prompt, a list of lists of strings for an input)
// would be sent on as it came, and a lenient backend would read text that no rule did: it
// is refused first, on a single call and on a batch line alike.

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

const absent = (value: unknown): boolean => value === undefined || value === null;

/** Refuses text fields of `operation` in a shape the prompt rules do not read. */
export function checkTextShapes(operation: Operation, body: JsonObject): void {
  checkPrediction(body);
  switch (operation) {
    case 'embeddings':
      checkTextOrTokens(body, 'input');
      checkTitles(body);
      return;
    case 'completions':
      checkTextOrTokens(body, 'prompt');
      if (!absent(body.suffix) && typeof body.suffix !== 'string') {
        throw invalid('suffix must be a string', 'suffix');
      }
      return;
    default:
  }
}

/**
 * An embedding's document titles: Vertex's `title` beside `input` (a string), and
 * `provider_extras.title`, shared or one per input (a string, or a list of strings and
 * nulls).
 */
function checkTitles(body: JsonObject): void {
  if (!absent(body.title) && typeof body.title !== 'string') {
    throw invalid('title must be a string', 'title');
  }
  const extras = body.provider_extras;
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return;
  const titles = (extras as JsonObject).title;
  if (absent(titles) || typeof titles === 'string') return;
  if (Array.isArray(titles) && titles.every((item) => item === null || typeof item === 'string')) {
    return;
  }
  throw invalid('provider_extras.title must be a string, or a list of strings and nulls', 'title');
}

/**
 * A Predicted Output (`prediction: {type: 'content', content}`): text the model reads, often
 * the file being edited, so as apt to hold a key as the prompt. Its content is a string or a
 * list of text parts, as OpenAI takes it.
 */
function checkPrediction(body: JsonObject): void {
  const prediction = body.prediction;
  if (absent(prediction)) return;
  const content = (prediction as { content?: unknown }).content;
  if (typeof prediction === 'object' && !Array.isArray(prediction) && isPredictionText(content)) {
    return;
  }
  throw invalid(
    "prediction must be {type: 'content', content: <a string or a list of text parts>}",
    'prediction',
  );
}

function isPredictionText(content: unknown): boolean {
  if (typeof content === 'string') return true;
  return (
    Array.isArray(content) &&
    content.every(
      (part) =>
        typeof part === 'object' &&
        part !== null &&
        (part as JsonObject).type === 'text' &&
        typeof (part as JsonObject).text === 'string',
    )
  );
}
