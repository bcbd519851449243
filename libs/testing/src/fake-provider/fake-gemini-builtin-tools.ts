// What the fake Gemini API answers when a request asks for a built-in tool (googleSearch,
// googleSearchRetrieval, codeExecution, urlContext), shaped as Gemini documents it: the
// code the model ran and its result as executableCode and codeExecutionResult parts
// between text parts, the candidate's groundingMetadata (search) and urlContextMetadata
// (fetched pages), and the tools' prompt tokens as usageMetadata.toolUsePromptTokenCount.

export const FAKE_TOOL_TEXT_BEFORE = 'Let me compute that. ';
export const FAKE_TOOL_TEXT_AFTER = 'The sum of the first 3 primes is 10.';
export const FAKE_EXECUTABLE_CODE = {
  executableCode: { language: 'PYTHON', code: 'print(2 + 3 + 5)' },
};
export const FAKE_CODE_RESULT = {
  codeExecutionResult: { outcome: 'OUTCOME_OK', output: '10\n' },
};
export const FAKE_GROUNDING_METADATA = {
  webSearchQueries: ['first three primes'],
  groundingChunks: [{ web: { uri: 'https://example.com/primes', title: 'example.com' } }],
  groundingSupports: [
    {
      segment: { startIndex: 0, endIndex: 20, text: 'Let me compute that.' },
      groundingChunkIndices: [0],
    },
  ],
  searchEntryPoint: { renderedContent: '<div>first three primes</div>' },
};
export const FAKE_URL_CONTEXT_METADATA = {
  urlMetadata: [
    {
      retrievedUrl: 'https://example.com/primes',
      urlRetrievalStatus: 'URL_RETRIEVAL_STATUS_SUCCESS',
    },
  ],
};
/** The usage of a built-in tool's answer: 25 tool-use prompt tokens beside the prompt's 30. */
export const FAKE_TOOL_USAGE = {
  promptTokenCount: 30,
  toolUsePromptTokenCount: 25,
  candidatesTokenCount: 12,
  totalTokenCount: 67,
};

/** The built-in tools a generateContent body asks for, by field name. */
export function builtInToolsAsked(body: Record<string, unknown>): string[] {
  const tools = Array.isArray(body.tools) ? (body.tools as Record<string, unknown>[]) : [];
  return tools.flatMap((tool) => Object.keys(tool)).filter((key) => key !== 'functionDeclarations');
}

/** The candidate metadata the tools asked for fill in. */
function metadataFor(tools: readonly string[]): Record<string, unknown> {
  return {
    ...(tools.some((tool) => tool.startsWith('googleSearch'))
      ? { groundingMetadata: FAKE_GROUNDING_METADATA }
      : {}),
    ...(tools.includes('urlContext') ? { urlContextMetadata: FAKE_URL_CONTEXT_METADATA } : {}),
  };
}

/** A generateContent answer using the tools asked for. */
export function builtInToolAnswer(
  tools: readonly string[],
  modelVersion: string | undefined,
): Record<string, unknown> {
  return {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [
            { text: FAKE_TOOL_TEXT_BEFORE },
            FAKE_EXECUTABLE_CODE,
            FAKE_CODE_RESULT,
            { text: FAKE_TOOL_TEXT_AFTER },
          ],
        },
        finishReason: 'STOP',
        ...metadataFor(tools),
      },
    ],
    usageMetadata: FAKE_TOOL_USAGE,
    modelVersion,
    responseId: 'resp-gemini-tools',
  };
}

/**
 * The same answer streamed: the first text, the code and its result in one event, then
 * the last text with the finish, the metadata and the whole usage.
 */
export function builtInToolEvents(
  tools: readonly string[],
  modelVersion: string | undefined,
): Record<string, unknown>[] {
  const names = { modelVersion, responseId: 'resp-gemini-tools' };
  const partial = { promptTokenCount: 30, totalTokenCount: 30 };
  const event = (parts: unknown[], extra: Record<string, unknown> = {}) => ({
    candidates: [{ content: { role: 'model', parts }, ...extra }],
    usageMetadata: partial,
    ...names,
  });
  return [
    event([{ text: FAKE_TOOL_TEXT_BEFORE }]),
    event([FAKE_EXECUTABLE_CODE, FAKE_CODE_RESULT]),
    {
      ...event([{ text: FAKE_TOOL_TEXT_AFTER }], { finishReason: 'STOP', ...metadataFor(tools) }),
      usageMetadata: FAKE_TOOL_USAGE,
    },
  ];
}
