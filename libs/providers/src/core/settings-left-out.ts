import {
  REQUEST_SETTINGS,
  type DroppedSetting,
  type DroppedSettingName,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
  type RequestSetting,
  type SettingDropReason,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import type { ProviderAdapter } from './provider-adapter';

// Every adapter says, on each answer (`servedBy.droppedSettings`), which of the settings
// the client asked for its provider request left out, and why: the metrics count them and
// the edges log them from that, never from guesses about providers and model ids. Two
// kinds: what the adapter's rules leave out for a model (Claude's sampling), told by the
// adapter itself, and what its wire format has no place for, told by `reportingUnsupported`
// from the adapter's list of the settings it takes.

const NOTHING_LEFT_OUT: readonly DroppedSetting[] = [];

/** One call's settings left out, each once, with the first reason given for it. */
export class SettingsLeftOut {
  readonly #settings = new Map<DroppedSettingName, SettingDropReason>();

  /** Notes `setting` left out for `reason` (a second reason for it is not noted). */
  readonly leaveOut = (setting: DroppedSettingName, reason: SettingDropReason): void => {
    if (!this.#settings.has(setting)) this.#settings.set(setting, reason);
  };

  /**
   * The settings noted. Read on every Anthropic, Bedrock and Vertex Claude call, which
   * nearly always leaves none out: then it is one shared empty list, not a new one.
   */
  get list(): readonly DroppedSetting[] {
    if (this.#settings.size === 0) return NOTHING_LEFT_OUT;
    return [...this.#settings].map(([setting, reason]) => ({ setting, reason }));
  }
}

/** Whether a canonical body asks for `setting`: a value that changes nothing asks nothing. */
function asks(body: JsonObject, extras: JsonObject, setting: RequestSetting): boolean {
  switch (setting) {
    case 'temperature':
    case 'top_p':
    case 'seed':
      return typeof body[setting] === 'number';
    case 'presence_penalty':
    case 'frequency_penalty':
      // 0 is no penalty: a provider without penalties answers it as asked.
      return typeof body[setting] === 'number' && body[setting] !== 0;
    case 'logit_bias':
      return isJsonObject(body.logit_bias) && Object.keys(body.logit_bias).length > 0;
    case 'top_k':
    case 'task_type':
    case 'title':
      return extras[setting] !== undefined && extras[setting] !== null;
    case 'service_tier':
      return typeof body.service_tier === 'string';
    case 'safety_settings':
      return Array.isArray(extras.safety_settings) && extras.safety_settings.length > 0;
    case 'parallel_tool_calls':
      // Calls are parallel by default: only `false`, with tools to call, asks for anything.
      return (
        body.parallel_tool_calls === false && Array.isArray(body.tools) && body.tools.length > 0
      );
    case 'context_management':
      return isJsonObject(extras.context_management);
    case 'task_budget':
      return isJsonObject(body.output_config) && isJsonObject(body.output_config.task_budget);
    case 'strict':
      return Array.isArray(body.tools) && body.tools.some(isStrictTool);
  }
}

/** A Messages client's strict tool: `strict: true` at the canonical tool's top level. */
function isStrictTool(tool: unknown): boolean {
  return isJsonObject(tool) && tool.strict === true;
}

const NO_EXTRAS: JsonObject = {};

/**
 * The settings `body` asks for that `takes` has no place for, each `unsupported`. Read on
 * every call of every backend and nearly always none: the common case allocates nothing.
 */
export function unsupportedSettings(
  body: JsonObject,
  takes: ReadonlySet<RequestSetting>,
): readonly DroppedSetting[] {
  let extras: JsonObject | undefined;
  let found: DroppedSetting[] | undefined;
  for (const setting of REQUEST_SETTINGS) {
    if (takes.has(setting)) continue;
    extras ??= isJsonObject(body.provider_extras) ? body.provider_extras : NO_EXTRAS;
    if (asks(body, extras, setting)) (found ??= []).push({ setting, reason: 'unsupported' });
  }
  return found ?? NOTHING_LEFT_OUT;
}

/** `answer` with `dropped` added to what its servedBy already reports (the same when none). */
export function withDroppedSettings(
  answer: GatewayAnswer,
  dropped: readonly DroppedSetting[],
): GatewayAnswer {
  if (dropped.length === 0) return answer;
  const reported = answer.servedBy.droppedSettings ?? [];
  const known = new Set(reported.map((item) => item.setting));
  const added = dropped.filter((item) => !known.has(item.setting));
  if (added.length === 0) return answer;
  return {
    ...answer,
    servedBy: { ...answer.servedBy, droppedSettings: [...reported, ...added] },
  };
}

/**
 * The settings an adapter's provider request takes for one call (some vary by model).
 * Each adapter's set names what it takes rather than what it lacks, so a setting added to
 * REQUEST_SETTINGS is reported left out until an adapter is known to take it.
 */
export type SettingsTaken = (call: ProviderCall) => ReadonlySet<RequestSetting>;

/** The settings OpenAI's wire format takes: all but the provider_extras fields. */
export const OPENAI_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  'temperature',
  'top_p',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  // Passed as the client sent it: OpenAI's own fields.
  'service_tier',
  'parallel_tool_calls',
]);

/** No setting at all (the built-in local model). */
export const NO_SETTINGS: ReadonlySet<RequestSetting> = new Set();

/**
 * `adapter`, its answers also reporting each setting asked for that `taken` says its
 * provider request has no place for (`unsupported`).
 */
export function reportingUnsupported(
  adapter: ProviderAdapter,
  taken: SettingsTaken,
): ProviderAdapter {
  return {
    name: adapter.name,
    canHandle: (provider) => adapter.canHandle(provider),
    invoke: (call) => {
      // Read before the call (bodies are never edited in place), so a call that leaves
      // nothing out returns the adapter's own promise: no extra async layer per request.
      const unsupported = unsupportedSettings(call.request.body, taken(call));
      const answer = adapter.invoke(call);
      if (unsupported.length === 0) return answer;
      return answer.then((answered) => withDroppedSettings(answered, unsupported));
    },
  };
}
