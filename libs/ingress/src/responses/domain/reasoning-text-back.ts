import type { ServedBy, ThinkingBlock } from '@aigw/contracts/data-plane';

// DeepSeek's thinking mode answers 400 ("The reasoning_content in the thinking mode must
// be passed back to the API") when an assistant turn that called tools comes back
// without its reasoning_content. A Responses client sends back the reasoning item it got,
// so for such a backend that item carries the reasoning text itself, in the two places
// OpenAI's clients return unchanged: `content` (`reasoning_text` parts: the openai SDKs
// and the Agents SDK send items back as they came) and `encrypted_content` (Codex CLI
// drops reasoning_text parts but returns encrypted_content, which it asks for). The
// providers' wire sends the text to DeepSeek alone (provider-fields: keepsToolTurnReasoning).

/** Providers whose chat API wants a tool-call turn's reasoning text back. */
const TAKES_REASONING_TEXT_BACK: ReadonlySet<string> = new Set(['deepseek']);

/** Whether the backend that answered wants its reasoning text back on a tool-call turn. */
export function takesReasoningTextBack(servedBy: ServedBy | undefined): boolean {
  return servedBy !== undefined && TAKES_REASONING_TEXT_BACK.has(servedBy.provider);
}

/**
 * The blocks a reasoning item keeps: the answer's own, else, when the text must come back,
 * the text as one unsigned block (an adapter whose provider verifies signatures leaves
 * such a block out; the wire gives DeepSeek its text as reasoning_content).
 */
export function blocksToKeep(
  blocks: readonly ThinkingBlock[],
  text: string,
  textBack: boolean,
): readonly ThinkingBlock[] {
  if (blocks.length > 0 || !textBack || text === '') return blocks;
  return [{ type: 'thinking', thinking: text, signature: '' }];
}
