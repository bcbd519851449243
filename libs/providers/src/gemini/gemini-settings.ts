import type { ProviderCall, RequestSetting } from '@aigw/contracts/data-plane';

// The settings a Gemini request takes, on the Gemini API and on Vertex AI alike (see
// gemini-request and gemini-embeddings): generationConfig's temperature, topP, topK, seed
// and penalties, and safetySettings; an embedding's taskType and title. Gemini has no
// logit bias.

const GEMINI_CHAT_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'safety_settings',
]);

const GEMINI_EMBEDDING_SETTINGS: ReadonlySet<RequestSetting> = new Set(['task_type', 'title']);

/** The settings a Gemini model's request takes for `call`'s operation. */
export function geminiSettings(call: ProviderCall): ReadonlySet<RequestSetting> {
  return call.request.operation === 'embeddings' ? GEMINI_EMBEDDING_SETTINGS : GEMINI_CHAT_SETTINGS;
}
