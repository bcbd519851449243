/**
 * Most alternatives one step of an answer's log probabilities may list: OpenAI's
 * `top_logprobs` limit and Gemini's `logprobs` alike.
 */
export const MAX_TOP_LOGPROBS = 20;
