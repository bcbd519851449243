import {
  DataPlaneError,
  fieldText,
  realtimeEvent,
  type JsonObject,
  type RealtimeFrame,
} from '@aigw/contracts/data-plane';
import type { IngressPipeline } from '../ingress-pipeline';

/** A text the model will read, and where in the client's event it was. */
export interface RealtimePromptText {
  readonly text: string;
  /** The event's field, for the error event's `param` (`item`, `session.instructions`…). */
  readonly param: string;
}

/** A client event the prompt rules refused: not sent on, the client told why. */
export interface RealtimePromptRefusal {
  readonly error: DataPlaneError;
  readonly param: string;
  /** The refused event's own `event_id`, so the client can tell which one it was. */
  readonly eventId: string | null;
}

/** The client events that carry text for the model; audio appends never match. */
const TEXT_EVENT_MARKERS = ['conversation.item', 'session.update', 'response.create'] as const;

function record(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** An item's text: message content parts (input_text), a tool's output, a call's arguments. */
function itemText(item: unknown): string {
  const parts = [fieldText(item)];
  for (const entry of Array.isArray(item) ? item : [item]) {
    const fields = record(entry);
    if (typeof fields?.output === 'string') parts.push(fields.output);
    if (typeof fields?.arguments === 'string') parts.push(fields.arguments);
  }
  return parts.filter((part) => part !== '').join('\n');
}

/**
 * The texts a client's Realtime event hands the model (GA events): a
 * `conversation.item.create`'s item, a `session.update`'s instructions, a
 * `response.create`'s instructions and out-of-band input items. None for other frames; a
 * frame with a JSON escape is parsed too (`conversation\u002eitem.create` is the same event).
 */
export function realtimePromptTexts(frame: RealtimeFrame): RealtimePromptText[] {
  if (typeof frame !== 'string') return [];
  if (!TEXT_EVENT_MARKERS.some((marker) => frame.includes(marker)) && !frame.includes('\\u')) {
    return [];
  }
  const event = realtimeEvent(frame);
  const texts: RealtimePromptText[] = [];
  const add = (text: string, param: string) => {
    if (text !== '') texts.push({ text, param });
  };
  switch (event?.type) {
    case 'conversation.item.create':
      add(itemText(event.item), 'item');
      break;
    case 'session.update': {
      const instructions = record(event.session)?.instructions;
      if (typeof instructions === 'string') add(instructions, 'session.instructions');
      break;
    }
    case 'response.create': {
      const response = record(event.response);
      if (typeof response?.instructions === 'string') {
        add(response.instructions, 'response.instructions');
      }
      if (response?.input !== undefined) add(itemText(response.input), 'response.input');
      break;
    }
    default:
  }
  return texts;
}

/** The edge's check of one text as a chat prompt of the session's model (blockPatterns, block detectors). */
export type PromptScreen = (text: string) => void;

/**
 * The refusal of a client event whose text a prompt rule blocks, or undefined to send it on.
 * `screen` throws the rule's PromptBlocked as it does for a chat prompt.
 */
export function refusedRealtimeEvent(
  frame: RealtimeFrame,
  screen: PromptScreen,
): RealtimePromptRefusal | undefined {
  for (const { text, param } of realtimePromptTexts(frame)) {
    try {
      screen(text);
    } catch (error) {
      if (!(error instanceof DataPlaneError)) throw error;
      const eventId = realtimeEvent(frame)?.event_id;
      return { error, param, eventId: typeof eventId === 'string' ? eventId : null };
    }
  }
  return undefined;
}

/**
 * A screen through the pipeline's own prompt rules for a chat prompt of `model`: the route's
 * blockPatterns and redaction's block detectors. Redaction's masking is not applied: the
 * event is sent on as the client wrote it, or refused.
 */
export function chatPromptScreen(
  pipeline: Pick<IngressPipeline, 'screenPrompt'>,
  model: string,
): PromptScreen {
  return (text) => {
    pipeline.screenPrompt(
      model,
      'chat',
      { model, messages: [{ role: 'user', content: text }] },
      new Map(),
    );
  };
}
