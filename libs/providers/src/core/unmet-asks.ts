import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

// Fields of an OpenAI chat request that change what the answer holds and that the
// translating adapters' providers (Anthropic, Gemini, Bedrock, Cohere, Vertex) have no
// counterpart for here. Left out, the client would get an ordinary answer and no word of
// what it lost: prose where it offered functions, text where it asked for speech, an answer
// without the web search. Such a request is refused, naming the field, as logprobs and n are.

function refused(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * The legacy function-calling fields (`functions`, and a `function_call` that forces one):
 * the answer would have to come back as `message.function_call`, which these adapters do not
 * write, so the client is told to send `tools` instead. `function_call: "none"` or `"auto"`
 * asks for nothing a plain answer lacks.
 */
function refuseLegacyFunctions(body: JsonObject): void {
  const functions = body.functions;
  if (Array.isArray(functions) ? functions.length > 0 : isGiven(functions)) {
    throw refused(
      'this backend does not take the legacy functions parameter; declare the functions in tools (and force one with tool_choice)',
      'functions',
    );
  }
  const call = body.function_call;
  if (isGiven(call) && call !== 'none' && call !== 'auto') {
    throw refused(
      'this backend does not take the legacy function_call parameter; use tools and tool_choice',
      'function_call',
    );
  }
}

/** Spoken output (`modalities` with "audio", and its `audio` settings). */
function refuseAudioOutput(body: JsonObject): void {
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) {
    throw refused(
      'this backend answers with text only; audio output (modalities: ["audio"]) is served by OpenAI-format backends',
      'modalities',
    );
  }
  if (isGiven(body.audio)) {
    throw refused(
      'this backend answers with text only; audio output settings (audio) are served by OpenAI-format backends',
      'audio',
    );
  }
}

/** OpenAI's web search for its search models, which run the search inside the call. */
function refuseWebSearch(body: JsonObject): void {
  if (isGiven(body.web_search_options)) {
    throw refused(
      'this backend does not run a web search (web_search_options); it is served by OpenAI-format backends',
      'web_search_options',
    );
  }
}

/** Throws the 400 naming the first field of `body` the backend could only drop (above). */
export function refuseUnmetAsks(body: JsonObject): void {
  refuseLegacyFunctions(body);
  refuseAudioOutput(body);
  refuseWebSearch(body);
}
