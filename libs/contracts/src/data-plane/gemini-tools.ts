import type { JsonObject } from './data-plane.types';

// Gemini's built-in tools (the Tool object's fields other than functionDeclarations):
// Google runs them itself, inside one generateContent call, so only a Gemini backend
// (Google's Gemini API, or a Gemini model on Vertex AI) can serve a request that asks for
// one. The Gemini edge carries them in the canonical request's `provider_extras`
// (`gemini_tools`, each a Tool object of one of these fields, as the client sent it);
// the router sends such a request to those backends only.

export const GEMINI_BUILT_IN_TOOLS = [
  'googleSearch',
  'googleSearchRetrieval',
  'codeExecution',
  'urlContext',
] as const;
export type GeminiBuiltInTool = (typeof GEMINI_BUILT_IN_TOOLS)[number];

/** Where the canonical request carries the built-in tools asked for. */
export const GEMINI_TOOLS_EXTRA = 'gemini_tools';

export function isGeminiBuiltInTool(name: string): name is GeminiBuiltInTool {
  return (GEMINI_BUILT_IN_TOOLS as readonly string[]).includes(name);
}

/**
 * The built-in tools a canonical request asks for, by name (the field of each Tool
 * object), in order; none for a request without them. Reads field names only: the
 * adapters check the shapes.
 */
export function geminiToolsAsked(body: JsonObject): string[] {
  const extras = body.provider_extras;
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return [];
  const tools = (extras as JsonObject)[GEMINI_TOOLS_EXTRA];
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool) =>
    typeof tool === 'object' && tool !== null && !Array.isArray(tool)
      ? Object.keys(tool as JsonObject)
      : [],
  );
}
