import type { JsonObject } from '@aigw/contracts/data-plane';

/**
 * A chat body whose `thinking` is `{"type": "enabled"}` with no `budget_tokens` rewritten to
 * the gateway's canonical form for "think, as deep as you choose": `{"type": "adaptive"}`.
 * That bare form is what DeepSeek's thinking-mode guide has OpenAI SDK users send (in
 * `extra_body`), and what Zhipu GLM and Moonshot Kimi clients send; it names no budget, so
 * it is not Anthropic's budgeted `enabled`. As adaptive it reaches DeepSeek as its own
 * switch on, Claude 4.6 and later as adaptive thinking, older Claude at the default
 * effort's budget, Gemini as dynamic thinking. Such a client reads the reasoning as
 * DeepSeek returns it, so Claude is asked to show it (`display: "summarized"`) unless the
 * client chose a display. The same object when there is nothing to rewrite.
 */
export function withBareThinkingAsAdaptive(body: JsonObject): JsonObject {
  const thinking = body.thinking;
  if (typeof thinking !== 'object' || thinking === null || Array.isArray(thinking)) return body;
  const asked = thinking as JsonObject;
  if (asked.type !== 'enabled') return body;
  if (asked.budget_tokens !== undefined && asked.budget_tokens !== null) return body;
  const display = asked.display ?? 'summarized';
  return { ...body, thinking: { type: 'adaptive', display } };
}
