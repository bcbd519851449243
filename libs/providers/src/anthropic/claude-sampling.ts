import type { RequestSetting, SettingDropReason } from '@aigw/contracts/data-plane';
import type { ChatPrompt } from '../core/chat-request';
import { isAtLeast, isModel, readClaudeModel } from './claude-models';

// Which sampling settings (temperature, top_p, top_k) a Claude model takes. Three
// generations, by Anthropic's rules as of late 2026:
// - Claude 3.x, Claude 4 (Opus 4, Sonnet 4) and older take all three.
// - Opus 4.1, 4.5, 4.6, Sonnet 4.5, 4.6 and Haiku 4.5 take temperature or top_p, not both:
//   "`temperature` and `top_p` cannot both be specified for this model. Please use only
//   one." (HTTP 400; the Messages API reference says to alter one or the other).
// - From Opus 4.7 on (Opus 4.8, 5, 5.5, Sonnet 5, 5.5, Haiku 5.5, Fable, Mythos) sampling
//   is gone: any of the three is a 400 ("`temperature` is deprecated for this model"; see
//   platform.claude.com/docs/en/about-claude/models/migration-guide and Bedrock's Opus 4.7
//   model card). Every Claude since has followed, so a Claude id this code does not know
//   is taken to refuse them too: a setting left out costs a client its tuning, a setting
//   sent costs it the whole call.
// An id that does not say Claude (an Anthropic-format API serving another vendor's model,
// an opaque Bedrock inference-profile ARN) is not judged: its settings go as sent.

export type SamplingSetting = Extract<RequestSetting, 'temperature' | 'top_p' | 'top_k'>;

/** Why a setting was left out: the model refuses it, or it refuses it with thinking on. */
export type SamplingDropReason = Extract<SettingDropReason, 'model' | 'thinking'>;

/** Told of each sampling setting a Claude request leaves out; never of its value. */
export type SettingsDroppedListener = (
  setting: SamplingSetting,
  reason: SamplingDropReason,
) => void;

export type ClaudeSamplingRule = 'all' | 'temperature-or-top-p' | 'none';

/** The Claude 4.x models that take temperature or top_p, not both: [family, minor]. */
const TEMPERATURE_OR_TOP_P: readonly (readonly [string, number])[] = [
  ['opus', 1],
  ['opus', 5],
  ['opus', 6],
  ['sonnet', 5],
  ['sonnet', 6],
  ['haiku', 5],
];

/** What sampling `model` takes, from its id in any naming (API, Bedrock, Vertex, ARN). */
export function claudeSamplingRule(model: string): ClaudeSamplingRule {
  const claude = readClaudeModel(model);
  if (!claude) return 'all';
  if (!isAtLeast(claude.version, 4, 1)) return 'all';
  return TEMPERATURE_OR_TOP_P.some(([family, minor]) => isModel(claude, family, 4, minor))
    ? 'temperature-or-top-p'
    : 'none';
}

/** The lowest top_p Claude takes with thinking on. */
const MIN_THINKING_TOP_P = 0.95;

/** The sampling settings to send a Claude model, each absent when left out. */
export interface ClaudeSampling {
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
}

/**
 * The client's sampling settings that `model` takes; `thinking` is whether the request
 * asks it to think (Claude then refuses any temperature but 1, top_k, and a top_p under
 * 0.95). Each setting left out is told to `onDropped`.
 */
export function claudeSampling(
  prompt: ChatPrompt,
  model: string,
  thinking: boolean,
  onDropped?: SettingsDroppedListener,
): ClaudeSampling {
  const sent: Record<SamplingSetting, number | undefined> = {
    temperature: prompt.temperature,
    top_p: prompt.topP,
    top_k: prompt.topK,
  };
  const drop = (setting: SamplingSetting, reason: SamplingDropReason): void => {
    if (sent[setting] === undefined) return;
    sent[setting] = undefined;
    onDropped?.(setting, reason);
  };
  const rule = claudeSamplingRule(model);
  if (rule === 'none') {
    drop('temperature', 'model');
    drop('top_p', 'model');
    drop('top_k', 'model');
  }
  // With thinking on, clients send their temperature out of habit: left out, it is the 1
  // that thinking runs at.
  if (thinking) {
    drop('temperature', 'thinking');
    drop('top_k', 'thinking');
    // Thinking takes a top_p of 0.95 to 1 only (Anthropic's extended thinking docs).
    if (sent.top_p !== undefined && sent.top_p < MIN_THINKING_TOP_P) drop('top_p', 'thinking');
  }
  // Of the two, temperature is kept: it is the setting clients mean (SDKs and agent
  // frameworks send it; a top_p beside it is mostly a default carried along).
  if (rule === 'temperature-or-top-p' && sent.temperature !== undefined) drop('top_p', 'model');
  return {
    ...(sent.temperature === undefined ? {} : { temperature: sent.temperature }),
    ...(sent.top_p === undefined ? {} : { topP: sent.top_p }),
    ...(sent.top_k === undefined ? {} : { topK: sent.top_k }),
  };
}
