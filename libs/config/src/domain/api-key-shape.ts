// Whether a text from the config file has the shape of a provider API key: such a text is
// never repeated in an error, a warning or a log line (it may be a key pasted in by mistake).

// Providers' key prefixes (OpenAI sk-, sk-proj-; Anthropic sk-ant-; Groq gsk_; xAI xai-;
// Perplexity pplx-; Hugging Face hf_; Google AIza; AWS AKIA) followed by a key's length of
// random text, upper case and digits included (a Kubernetes name is lower case).
const API_KEY_PREFIX = /^(?:sk-|sk_|gsk_|xai-|pplx-|hf_|AIza|AKIA)[A-Za-z0-9._-]{16,}$/;

export function looksLikeApiKey(text: string): boolean {
  return API_KEY_PREFIX.test(text) && /[A-Z]/.test(text) && /[0-9]/.test(text);
}

/**
 * Whether a text holds a key-shaped word anywhere: a YAML collection used as a field name
 * (`apiKeyRef: {{sk-...}}`) reaches the loader as the text "{ sk-... }".
 */
export function holdsApiKey(text: string): boolean {
  return text.split(/[^A-Za-z0-9._-]+/).some(looksLikeApiKey);
}
