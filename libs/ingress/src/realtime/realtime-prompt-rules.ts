import {
  DataPlaneError,
  realtimeEvent,
  type JsonObject,
  type RealtimeFrame,
} from '@aigw/contracts/data-plane';
import type { IngressPipeline, RedactionReport } from '../ingress-pipeline';

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

/** A client event under the prompt rules: refused, or the frame to send on (masked or as it came). */
export type RealtimeScreening =
  | { readonly refusal: RealtimePromptRefusal; readonly frame?: undefined }
  | { readonly frame: RealtimeFrame; readonly refusal?: undefined };

/** One text of an event as the rules read it; `arguments`: a call's JSON arguments. */
export interface PromptPiece {
  readonly text: string;
  readonly arguments: boolean;
}

/**
 * The route's prompt rules over the pieces of one event field, read together as one prompt:
 * each piece's text after masking (the same string when nothing matched). Throws the
 * rule's DataPlaneError (PromptBlocked) to refuse the event.
 */
export type PromptRules = (pieces: readonly PromptPiece[]) => readonly string[];

/** A piece of a parsed event and where to put its masked text back. */
interface TextSlot extends PromptPiece {
  set(text: string): void;
}

/** The pieces of one event field, named for the error event's `param`. */
interface TextGroup {
  readonly param: string;
  readonly slots: readonly TextSlot[];
}

type Holder = Record<string | number, unknown>;

/** The client events that carry text for the model; audio appends never match. */
const TEXT_EVENT_MARKERS = ['conversation.item', 'session.update', 'response.create'] as const;

function record(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

function slotAt(holder: Holder, key: string | number, isArguments: boolean): TextSlot {
  return {
    text: holder[key] as string,
    arguments: isArguments,
    set: (text) => {
      holder[key] = text;
    },
  };
}

/** The texts under `holder[key]` the prompt rules read of a chat message (content, else text). */
function textSlots(holder: Holder, key: string | number, slots: TextSlot[]): void {
  const value = holder[key];
  if (typeof value === 'string') {
    if (value !== '') slots.push(slotAt(holder, key, false));
    return;
  }
  if (Array.isArray(value)) {
    const list = value as unknown as Holder; // indexed by position
    for (let index = 0; index < value.length; index++) textSlots(list, index, slots);
    return;
  }
  const fields = record(value);
  if (!fields) return;
  textSlots(
    fields,
    fields.content !== undefined && fields.content !== null ? 'content' : 'text',
    slots,
  );
}

/** An item's (or a list of items') texts: message content parts, a tool's output, a call's arguments. */
function itemSlots(holder: Holder, key: string, slots: TextSlot[]): void {
  textSlots(holder, key, slots);
  const value = holder[key];
  for (const entry of Array.isArray(value) ? value : [value]) {
    const fields = record(entry);
    if (typeof fields?.output === 'string' && fields.output !== '') {
      slots.push(slotAt(fields, 'output', false));
    }
    if (typeof fields?.arguments === 'string' && fields.arguments !== '') {
      slots.push(slotAt(fields, 'arguments', true));
    }
  }
}

/** A client frame's event when it may carry text for the model; undefined for audio and binary. */
function textEvent(frame: RealtimeFrame): JsonObject | undefined {
  if (typeof frame !== 'string') return undefined;
  if (!TEXT_EVENT_MARKERS.some((marker) => frame.includes(marker)) && !frame.includes('\\u')) {
    return undefined;
  }
  return realtimeEvent(frame);
}

/**
 * The texts a client's Realtime event hands the model (GA events), by field: a
 * `conversation.item.create`'s item, a `session.update`'s instructions, a `response.create`'s
 * instructions and out-of-band input items. Tool definitions (`session.tools`) are the
 * developer's and are left alone, as a chat request's `tools` are.
 */
function textGroups(event: JsonObject): TextGroup[] {
  const groups: TextGroup[] = [];
  const add = (param: string, collect: (slots: TextSlot[]) => void) => {
    const slots: TextSlot[] = [];
    collect(slots);
    if (slots.length > 0) groups.push({ param, slots });
  };
  switch (event.type) {
    case 'conversation.item.create':
      add('item', (slots) => itemSlots(event, 'item', slots));
      break;
    case 'session.update': {
      const session = record(event.session);
      if (session && typeof session.instructions === 'string') {
        add('session.instructions', (slots) => textSlots(session, 'instructions', slots));
      }
      break;
    }
    case 'response.create': {
      const response = record(event.response);
      if (!response) break;
      if (typeof response.instructions === 'string') {
        add('response.instructions', (slots) => textSlots(response, 'instructions', slots));
      }
      if (response.input !== undefined) {
        add('response.input', (slots) => itemSlots(response, 'input', slots));
      }
      break;
    }
    default:
  }
  return groups;
}

/**
 * The texts a client's Realtime event hands the model, one per field, its pieces joined as
 * a chat prompt's are. None for other frames; a frame with a JSON escape is parsed too
 * (`conversation\u002eitem.create` is the same event).
 */
export function realtimePromptTexts(frame: RealtimeFrame): RealtimePromptText[] {
  const event = textEvent(frame);
  if (!event) return [];
  return textGroups(event).map(({ param, slots }) => ({
    param,
    text: slots.map((slot) => slot.text).join('\n'),
  }));
}

/**
 * A client event under the route's prompt rules: refused when a rule blocks one of its
 * texts, else the frame to send on. The frame is the client's own, byte for byte, unless a
 * `redact` rule masked a text: then it is the event written again with the masked texts
 * (every other field as it came). Audio frames are not parsed.
 */
export function screenRealtimeEvent(frame: RealtimeFrame, rules: PromptRules): RealtimeScreening {
  const event = textEvent(frame);
  if (!event) return { frame };
  let masked = false;
  for (const { param, slots } of textGroups(event)) {
    let texts: readonly string[];
    try {
      texts = rules(slots);
    } catch (error) {
      if (!(error instanceof DataPlaneError)) throw error;
      const eventId = typeof event.event_id === 'string' ? event.event_id : null;
      return { refusal: { error, param, eventId } };
    }
    slots.forEach((slot, index) => {
      const text = texts[index];
      if (text === slot.text) return;
      slot.set(text);
      masked = true;
    });
  }
  return { frame: masked ? JSON.stringify(event) : frame };
}

/** A piece as a chat message: a text as content, arguments as a call's, so each is read as chat reads it. */
function pieceMessage({ text, arguments: isArguments }: PromptPiece): JsonObject {
  if (!isArguments) return { role: 'user', content: text };
  const call = { id: 'call', type: 'function', function: { name: 'call', arguments: text } };
  return { role: 'assistant', content: null, tool_calls: [call] };
}

function messageText(message: JsonObject, piece: PromptPiece): string {
  const text = piece.arguments
    ? record(record((message.tool_calls as unknown[])[0])?.function)?.arguments
    : message.content;
  return typeof text === 'string' ? text : piece.text;
}

/**
 * The route's prompt rules for a chat prompt of `model`, through the pipeline's own code:
 * blockPatterns, redaction's block detectors, then its masking (JSON arguments masked value
 * by value, so they stay JSON). Masked matches are reported to `report` with the route's
 * name, as a chat call's are.
 */
export function chatPromptRules(
  pipeline: Pick<IngressPipeline, 'screenPrompt'>,
  model: string,
  report?: RedactionReport,
): PromptRules {
  return (pieces) => {
    const body = { model, messages: pieces.map(pieceMessage) };
    const screened = pipeline.screenPrompt(model, 'chat', body, new Map(), report);
    if (screened === body) return pieces.map((piece) => piece.text);
    const messages = screened.messages as JsonObject[];
    return pieces.map((piece, index) => messageText(messages[index], piece));
  };
}
