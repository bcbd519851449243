import {
  DataPlaneError,
  DataPlaneErrorCode,
  jsonTextNestsDeeperThan,
  MAX_BODY_DEPTH,
  nestsDeeperThan,
} from '@aigw/contracts/data-plane';

/**
 * Refuses a client's body nested deeper than MAX_BODY_DEPTH, with a 400 in the edge's own
 * format. First thing on every edge: what reads a body after it (a dialect's translation,
 * which writes tool inputs out as JSON; prompt rules; estimates) recurses as deep as it goes,
 * and past the stack that was a RangeError, a 500.
 */
export function refuseTooDeepBody(body: unknown): void {
  if (nestsDeeperThan(body, MAX_BODY_DEPTH)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `The request body nests arrays or objects deeper than ${MAX_BODY_DEPTH} levels`,
    );
  }
}

/**
 * Refuses a chat body whose tool calls' arguments (JSON in a string, so no part of the body's
 * depth) nest deeper than MAX_BODY_DEPTH: redaction and the provider translations parse them
 * and walk what they hold. Arguments that are no JSON are left to the backend, as before.
 */
export function refuseTooDeepToolArguments(messages: unknown): void {
  if (!Array.isArray(messages)) return;
  messages.forEach((message: unknown, index) => {
    const calls = (message as { tool_calls?: unknown } | null)?.tool_calls;
    if (!Array.isArray(calls)) return;
    calls.forEach((call: unknown, at) => {
      const args = (call as { function?: { arguments?: unknown } } | null)?.function?.arguments;
      if (typeof args === 'string' && jsonTextNestsDeeperThan(args, MAX_BODY_DEPTH)) {
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          `A tool call's arguments nest arrays or objects deeper than ${MAX_BODY_DEPTH} levels`,
          { param: `messages[${index}].tool_calls[${at}].function.arguments` },
        );
      }
    });
  });
}
