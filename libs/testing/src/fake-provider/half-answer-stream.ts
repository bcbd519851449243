/** One chunk of an OpenAI-format chat stream, as a backend serving `upstream-model` sends it. */
const chunk = (delta: object, finish: string | null = null) => ({
  id: 'chatcmpl-stall',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'upstream-model',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** The start of a chat stream (its text so far "Half an"): what a backend sends before it stalls. */
export const HALF_ANSWER_STARTED = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Half an' }),
];

/** The same stream carried on to its finish and [DONE]. */
export const HALF_ANSWER_FINISHED = [
  ...HALF_ANSWER_STARTED,
  chunk({ content: ' answer.' }),
  chunk({}, 'stop'),
  '[DONE]',
];
