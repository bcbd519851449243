import type { ResponseValidationConfig } from '@aigw/config';
import {
  isServerToolBlockType,
  type GatewayAnswer,
  type JsonAnswer,
  type JsonObject,
  type Operation,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import { Redactor, type RedactionTally } from './redactor';
import { DetailTails, checkDetails, signsDetails } from './reasoning-details';
import { streamHoldFor } from './stream-hold';
import { StreamTail, applyMatches, type TailStep } from './stream-tail';
import { mapCitationTexts, mapServerToolBlockTexts, type MapText } from './server-tool-texts';

/**
 * Where in an answer a rule matched: the answer itself (content, a refusal, a completion's
 * text) or the model's reasoning, so an operator can tell them apart.
 */
export type AnswerPart = 'content' | 'reasoning';

/** The matches masked in one part of an answer, per rule. */
export interface AnswerRedactions {
  readonly part: AnswerPart;
  readonly counts: ReadonlyMap<string, number>;
}

/** The rule that withheld an answer's choice, and the part it matched in. */
export interface AnswerBlock {
  readonly rule: string;
  readonly part: AnswerPart;
}

/** What the checks found in one answer, for the metrics: counts and rule names, never text. */
export interface AnswerReport {
  /** Once per part with matches masked. */
  redacted(redactions: AnswerRedactions): void;
  /** Once per choice withheld. */
  blocked(block: AnswerBlock): void;
}

/** The finish OpenAI and Azure give an answer their filters withheld. */
export const CONTENT_FILTER = 'content_filter';

/**
 * `security.responseValidation` on one route: the model's answer text checked by the same
 * detectors as prompts, in the canonical (OpenAI) answer before a dialect writes it, so
 * every public API (chat, completions, Responses, Messages, Gemini) gets it. What is scanned
 * is the text a reader sees: chat message content (string or text parts), a chat refusal,
 * the reasoning text (`reasoning_content` or `reasoning`, the text of `thinking_blocks`,
 * which the Messages API shows as thinking blocks, and of OpenRouter's `reasoning_details`)
 * and a completion's text; in an answer that ran an Anthropic server tool, the readable
 * text of its blocks (server-tool-texts.ts: the search query, result titles, a fetched
 * page's text, a code run's output), its cited texts' quotes (`cited_text`) and the
 * thinking blocks standing among them, plain or streamed. Signatures, redacted
 * (encrypted) blocks and entries, a result's `encrypted_*` content and its URLs are
 * opaque and pass as they came. Tool-call arguments are left as they are: they are the
 * caller's own program's input (an email address to send to), and masking them would
 * break the call, not protect a reader (a server tool's call is checked: Anthropic ran it
 * already, and the client only reads it). A redacted or
 * withheld choice loses its logprobs, which spell the same text token by token.
 *
 * A block match withholds the choice, as OpenAI's and Azure's filters do: finish_reason
 * content_filter and no content (an empty text for completions).
 */
export class AnswerGuard {
  private readonly scanner: Redactor;
  private readonly hold: number;

  constructor(config: ResponseValidationConfig) {
    this.scanner = new Redactor(
      config.redact ?? { detectors: [], patterns: [] },
      config.blockPatterns,
    );
    // Never shorter than the route's detectors need to recognise a match (stream-hold.ts).
    this.hold = streamHoldFor(config);
  }

  /** Whether answers of `operation` carry text this checks. */
  static checks(operation: Operation): boolean {
    return operation === 'chat' || operation === 'completions';
  }

  check(answer: GatewayAnswer, operation: Operation, report: AnswerReport): GatewayAnswer {
    return answer.kind === 'json'
      ? this.json(answer, operation, report)
      : this.stream(answer, operation, report);
  }

  /** `text` redacted, or cut where a block rule matched. */
  text(text: string, tally: RedactionTally): TailStep {
    const matches = this.scanner.matches(text);
    return matches.length === 0 ? { text } : applyMatches(text, matches, 0, text.length, tally);
  }

  private json(answer: JsonAnswer, operation: Operation, report: AnswerReport): JsonAnswer {
    const choices = answer.body.choices;
    if (answer.status !== 200 || !Array.isArray(choices)) return answer;
    const tallies = new PartTallies();
    let changed: unknown[] | undefined;
    choices.forEach((choice, i) => {
      if (!isObject(choice)) return;
      const checked =
        operation === 'chat'
          ? this.chatChoice(choice, tallies)
          : this.textChoice(choice, tallies.content);
      if (checked instanceof Withheld) {
        report.blocked(checked);
        (changed ??= choices.slice())[i] = withheld(choice, operation);
      } else if (checked !== choice) {
        (changed ??= choices.slice())[i] = checked;
      }
    });
    tallies.report(report);
    return changed ? { ...answer, body: { ...answer.body, choices: changed } } : answer;
  }

  /** The choice redacted, the same one when nothing matched, or the block that withholds it. */
  private chatChoice(choice: JsonObject, tallies: PartTallies): JsonObject | Withheld {
    const message = choice.message;
    if (!isObject(message)) return choice;
    const tally = tallies.content;
    let content = message.content;
    if (typeof content === 'string') {
      const step = this.text(content, tally);
      if (step.blocked) return new Withheld(step.blocked, 'content');
      content = step.text;
    } else if (Array.isArray(content)) {
      // Thinking among a server tool's blocks repeats the reasoning text, if there is any.
      const repeated = REASONING_TEXT.some((field) => typeof message[field] === 'string')
        ? new Map<string, number>()
        : tallies.reasoning;
      const parts: unknown[] = [];
      for (const part of content) {
        const checked = this.contentPart(part, tally, repeated);
        if (checked instanceof Withheld) return checked;
        parts.push(checked);
      }
      if (parts.every((part, i) => part === (content as unknown[])[i])) content = message.content;
      else content = parts;
    }
    let refusal = message.refusal;
    if (typeof refusal === 'string') {
      const step = this.text(refusal, tally);
      if (step.blocked) return new Withheld(step.blocked, 'content');
      refusal = step.text;
    }
    const reasoning = this.reasoning(message, tallies.reasoning);
    if (typeof reasoning === 'string') return new Withheld(reasoning, 'reasoning');
    if (content === message.content && refusal === message.refusal && !reasoning) return choice;
    // Spread, not set: a message without a refusal keeps having none.
    return {
      ...choice,
      message: {
        ...message,
        content,
        ...(refusal !== message.refusal && { refusal }),
        ...reasoning,
      },
      logprobs: null,
    };
  }

  /**
   * One part of a message's content checked: a text (and its citations' quotes), a server
   * tool's block (server-tool-texts.ts) or a thinking block standing among them; the same
   * part when nothing matched, or the block that withholds the choice.
   */
  private contentPart(
    part: unknown,
    tally: RedactionTally,
    reasoningTally: RedactionTally,
  ): unknown {
    if (!isObject(part)) return part;
    if (part.type === 'thinking') {
      const blocks = this.thinkingBlocks([part], reasoningTally);
      if (typeof blocks === 'string') return new Withheld(blocks, 'reasoning');
      return blocks ? blocks[0] : part;
    }
    const { check, blocked } = this.checker(tally);
    if (isServerToolBlockType(part.type)) {
      const checked = mapServerToolBlockTexts(part, check);
      const rule = blocked();
      return rule ? new Withheld(rule, 'content') : checked;
    }
    if (typeof part.text !== 'string') return part;
    const text = check(part.text);
    const citations = Array.isArray(part.citations)
      ? mapCitationTexts(part.citations, check)
      : part.citations;
    const rule = blocked();
    if (rule) return new Withheld(rule, 'content');
    if (text === part.text && citations === part.citations) return part;
    return { ...part, text, ...(citations === part.citations ? {} : { citations }) };
  }

  /**
   * A message's reasoning checked: the fields that changed (undefined when none did), or
   * the blocking rule. The text of its thinking blocks and reasoning details repeats its
   * reasoning text, so their matches are counted only when there is no reasoning text to
   * count them.
   */
  private reasoning(message: JsonObject, tally: RedactionTally): JsonObject | string | undefined {
    let changed: JsonObject | undefined;
    let counted = false;
    for (const field of REASONING_TEXT) {
      const text = message[field];
      if (typeof text !== 'string') continue;
      counted = true;
      const step = this.text(text, tally);
      if (step.blocked) return step.blocked;
      if (step.text !== text) (changed ??= {})[field] = step.text;
    }
    const repeated = counted ? new Map<string, number>() : tally;
    if (message.thinking_blocks !== undefined) {
      const blocks = this.thinkingBlocks(message.thinking_blocks, repeated);
      if (typeof blocks === 'string') return blocks;
      if (blocks) (changed ??= {}).thinking_blocks = blocks;
    }
    if (message.reasoning_details !== undefined) {
      const details = checkDetails(message.reasoning_details, (text) => this.text(text, repeated));
      if (typeof details === 'string') return details;
      if (details) (changed ??= {}).reasoning_details = details;
    }
    return changed;
  }

  /**
   * `thinking_blocks` with each thinking block's text checked, its signature kept as it
   * came (a redacted block is encrypted: nothing to read); undefined when nothing changed,
   * or the blocking rule.
   */
  private thinkingBlocks(blocks: unknown, tally: RedactionTally): unknown[] | string | undefined {
    if (!Array.isArray(blocks)) return undefined;
    let changed: unknown[] | undefined;
    for (const [i, block] of blocks.entries()) {
      if (!isObject(block) || block.type !== 'thinking') continue;
      if (typeof block.thinking !== 'string' || block.thinking === '') continue;
      const step = this.text(block.thinking, tally);
      if (step.blocked) return step.blocked;
      if (step.text !== block.thinking) {
        (changed ??= blocks.slice())[i] = { ...block, thinking: step.text };
      }
    }
    return changed;
  }

  /**
   * A delta's server tool blocks and citations checked: the fields that changed (undefined
   * when none did), or the blocking rule.
   */
  private serverToolDelta(
    delta: JsonObject,
    tally: RedactionTally,
  ): JsonObject | string | undefined {
    const { check, blocked } = this.checker(tally);
    let changed: JsonObject | undefined;
    const { server_tool_blocks: tools, citations } = delta;
    if (Array.isArray(tools)) {
      const checked = tools.map((block: unknown) =>
        isObject(block) ? mapServerToolBlockTexts(block, check) : block,
      );
      if (checked.some((block, i) => block !== tools[i])) {
        (changed ??= {}).server_tool_blocks = checked;
      }
    }
    if (Array.isArray(citations)) {
      const checked = mapCitationTexts(citations, check);
      if (checked !== citations) (changed ??= {}).citations = checked;
    }
    return blocked() ?? changed;
  }

  /**
   * A check of whole texts (a server tool's, a citation's) that masks until a block rule
   * matches, then leaves the rest: `blocked` names that rule, once the texts are checked.
   */
  private checker(tally: RedactionTally): { check: MapText; blocked: () => string | undefined } {
    let rule: string | undefined;
    const check = (text: string): string => {
      if (rule) return text;
      const step = this.text(text, tally);
      rule = step.blocked;
      return step.text;
    };
    return { check, blocked: () => rule };
  }

  private textChoice(choice: JsonObject, tally: RedactionTally): JsonObject | Withheld {
    if (typeof choice.text !== 'string') return choice;
    const step = this.text(choice.text, tally);
    if (step.blocked) return new Withheld(step.blocked, 'content');
    return step.text === choice.text ? choice : { ...choice, text: step.text, logprobs: null };
  }

  private stream(answer: StreamAnswer, operation: Operation, report: AnswerReport): StreamAnswer {
    return { ...answer, events: this.events(answer.events, operation, report) };
  }

  /**
   * The chunks with each choice's text held back and released checked (see StreamTail).
   * A block match ends that choice with a content_filter chunk; the upstream stream is
   * still read to its end, so the usage chunk (and the metering) still come.
   */
  private async *events(
    events: AsyncIterable<JsonObject>,
    operation: Operation,
    report: AnswerReport,
  ): AsyncGenerator<JsonObject> {
    const chat = operation === 'chat';
    const tallies = new PartTallies();
    const tails = new Map<number, Map<string, StreamTail>>();
    const fields = chat ? CHAT_TEXT : COMPLETION_TEXT;
    const tailOf = (index: number, field: string): StreamTail => {
      let held = tails.get(index);
      if (!held) tails.set(index, (held = new Map<string, StreamTail>()));
      let tail = held.get(field);
      if (!tail) {
        const tally = isReasoningField(field) ? tallies.reasoning : tallies.content;
        held.set(field, (tail = new StreamTail(this.scanner, this.hold, tally)));
      }
      return tail;
    };
    // OpenRouter's reasoning_details, held per choice; their text repeats the reasoning
    // text, so it is counted only for a choice with none.
    const details = new Map<number, DetailTails>();
    const detailsOf = (index: number, delta: JsonObject): DetailTails => {
      let held = details.get(index);
      if (!held) {
        const counts = !REASONING_TEXT.some(
          (field) =>
            tails.get(index)?.has(field) ||
            (typeof delta[field] === 'string' && delta[field] !== ''),
        );
        const into = counts ? tallies.reasoning : new Map<string, number>();
        details.set(
          index,
          (held = new DetailTails(() => new StreamTail(this.scanner, this.hold, into))),
        );
      }
      return held;
    };
    const done = new Set<number>();
    let template: JsonObject | undefined;
    try {
      for await (const chunk of events) {
        const choices = chunk.choices;
        if (!Array.isArray(choices) || choices.length === 0) {
          yield chunk;
          continue;
        }
        template = chunk;
        const out: JsonObject[] = [];
        // Text held back before a block of its own (a server tool's, a new cited text): it
        // goes out in a chunk ahead, as the dialect (Messages) writes a delta's blocks first.
        const ahead: JsonObject[] = [];
        for (const choice of choices) {
          if (!isObject(choice)) continue;
          const index = typeof choice.index === 'number' ? choice.index : 0;
          if (done.has(index)) continue; // withheld: nothing more of it goes out
          const source = chat ? (isObject(choice.delta) ? choice.delta : {}) : choice;
          const finished = choice.finish_reason !== null && choice.finish_reason !== undefined;
          const startsBlock = chat && startsOwnBlock(source);
          if (startsBlock) {
            const held = flushTails(tails.get(index), fields);
            if (held.blocked) {
              done.add(index);
              report.blocked(new Withheld(held.blocked, held.part));
              out.push(filteredChunkChoice(index, held.texts, chat));
              continue;
            }
            if (Object.keys(held.texts).length > 0) {
              ahead.push({ index, delta: held.texts, finish_reason: null });
            }
          }
          const calls = chat && callsIn(choice);
          const reasoningEnds = chat && endsReasoning(source);
          // A thinking block comes whole; its text repeats reasoning streamed before it, if any.
          const blocks =
            chat && source.thinking_blocks !== undefined
              ? this.thinkingBlocks(
                  source.thinking_blocks,
                  REASONING_TEXT.some((field) => tails.get(index)?.has(field))
                    ? new Map<string, number>()
                    : tallies.reasoning,
                )
              : undefined;
          // A server tool's blocks and a text's citations come whole: checked as they are.
          const toolParts =
            chat && startsBlock && typeof blocks !== 'string'
              ? this.serverToolDelta(source, tallies.content)
              : undefined;
          // Reasoning details before the text fields, so a block in them (or in a thinking
          // block) withholds this chunk's answer text too.
          let blocked = typeof blocks === 'string' ? blocks : undefined;
          let part: AnswerPart = 'reasoning'; // until a content field's rule blocks
          if (typeof toolParts === 'string') {
            blocked = toolParts;
            part = 'content';
          }
          const checked = typeof toolParts === 'object' ? { ...source, ...toolParts } : source;
          const detailed = chat ? source.reasoning_details : undefined;
          const endsDetails = finished || calls || reasoningEnds || startsBlock;
          let entries: unknown[] | undefined;
          if (!blocked && (Array.isArray(detailed) || (endsDetails && details.has(index)))) {
            const step = detailsOf(index, source).push(
              Array.isArray(detailed) ? detailed : [],
              endsDetails,
            );
            blocked = step.blocked;
            entries = step.entries;
          }
          const texts: Record<string, string> = {};
          for (const field of blocked ? [] : fields) {
            const text = source[field];
            const came = typeof text === 'string' && text.length > 0;
            // A tail only for a field that has carried text (most choices never refuse).
            const tail = came ? tailOf(index, field) : tails.get(index)?.get(field);
            let step: TailStep = came && tail ? tail.push(text) : { text: '' };
            // A tool call starting ends the text before it: release it first, so a dialect
            // that writes content blocks in order (Messages) keeps text before the tool use;
            // likewise the answer (or a block's signature) ends the reasoning before it.
            const ends = calls || (reasoningEnds && isReasoningField(field));
            if (tail && !step.blocked && (finished || ends)) {
              const rest = tail.flush();
              step = { text: step.text + rest.text, blocked: rest.blocked };
            }
            texts[field] = step.text;
            if ((blocked = step.blocked)) {
              if (!isReasoningField(field)) part = 'content';
              break;
            }
          }
          if (blocked) {
            done.add(index);
            report.blocked(new Withheld(blocked, part));
            out.push(filteredChunkChoice(index, texts, chat));
            continue;
          }
          if (finished) done.add(index);
          const released = withStreamText(
            withDeltaParts(
              checked === source ? choice : { ...choice, delta: checked },
              checked,
              Array.isArray(blocks) ? blocks : undefined,
              detailed,
              entries,
            ),
            texts,
            fields,
            chat,
          );
          // A chunk of reasoning details all held back, with nothing else in it, waits.
          if (released && !(Array.isArray(detailed) && isEmptyDelta(released) && !finished)) {
            out.push(released);
          }
        }
        if (ahead.length > 0) {
          const { usage: _usage, ...envelope } = chunk;
          yield { ...envelope, choices: ahead };
        }
        if (out.length > 0 || chunk.usage != null) yield { ...chunk, choices: out };
      }
      // A stream that ended without a finish for a choice: what it held is final now.
      for (const index of new Set([...tails.keys(), ...details.keys()])) {
        if (done.has(index)) continue;
        const texts: Record<string, string> = {};
        let blocked: string | undefined;
        let part: AnswerPart = 'reasoning';
        for (const [field, tail] of tails.get(index) ?? []) {
          const step = tail.flush();
          if (step.text.length > 0) texts[field] = step.text;
          if ((blocked = step.blocked)) {
            if (!isReasoningField(field)) part = 'content';
            break;
          }
        }
        const rest = !blocked ? details.get(index)?.flush() : undefined;
        blocked ??= rest?.blocked;
        if (blocked) report.blocked(new Withheld(blocked, part));
        const entries = !blocked && rest && rest.entries.length > 0 ? rest.entries : undefined;
        if (Object.keys(texts).length === 0 && !entries && !blocked) continue;
        const choice = blocked
          ? filteredChunkChoice(index, texts, chat)
          : chat
            ? {
                index,
                delta: entries ? { ...texts, reasoning_details: entries } : texts,
                finish_reason: null,
              }
            : { index, text: texts.text, finish_reason: null };
        yield { ...template, choices: [choice] };
      }
    } finally {
      tallies.report(report);
    }
  }
}

/** The rule that withheld a choice, and where it matched. */
class Withheld implements AnswerBlock {
  constructor(
    readonly rule: string,
    readonly part: AnswerPart,
  ) {}
}

/** One answer's matches masked, per part, reported once it is checked. */
class PartTallies {
  readonly content: RedactionTally = new Map();
  readonly reasoning: RedactionTally = new Map();

  report(report: AnswerReport): void {
    if (this.content.size > 0) report.redacted({ part: 'content', counts: this.content });
    if (this.reasoning.size > 0) report.redacted({ part: 'reasoning', counts: this.reasoning });
  }
}

/** A withheld JSON choice: no content, finish_reason content_filter. */
function withheld(choice: JsonObject, operation: Operation): JsonObject {
  const { message: _message, logprobs: _logprobs, ...rest } = choice;
  return operation === 'chat'
    ? {
        ...rest,
        message: { role: 'assistant', content: null },
        logprobs: null,
        finish_reason: CONTENT_FILTER,
      }
    : { ...rest, text: '', logprobs: null, finish_reason: CONTENT_FILTER };
}

/** The fields of a chat message or delta that carry reasoning text (see reasoningTextOf). */
const REASONING_TEXT = ['reasoning_content', 'reasoning'] as const;

function isReasoningField(field: string): boolean {
  return field === 'reasoning_content' || field === 'reasoning';
}

/** The fields of a streamed choice whose text is held and checked: reasoning comes first. */
const CHAT_TEXT = [...REASONING_TEXT, 'content', 'refusal'] as const;
const COMPLETION_TEXT = ['text'] as const;

/** A withheld stream choice's last chunk: the text before the match, and the filter finish. */
function filteredChunkChoice(
  index: number,
  texts: Readonly<Record<string, string>>,
  chat: boolean,
): JsonObject {
  if (!chat) return { index, text: texts.text ?? '', finish_reason: CONTENT_FILTER };
  const delta = Object.fromEntries(Object.entries(texts).filter(([, text]) => text.length > 0));
  return { index, delta, finish_reason: CONTENT_FILTER };
}

/**
 * The chunk's choice carrying `text` in place of what came; undefined when nothing is left
 * to send (all its text held back and nothing else in it).
 */
function withStreamText(
  choice: JsonObject,
  texts: Readonly<Record<string, string>>,
  fields: readonly string[],
  chat: boolean,
): JsonObject | undefined {
  const finished = choice.finish_reason !== null && choice.finish_reason !== undefined;
  const { logprobs: _logprobs, ...rest } = choice;
  if (!chat) {
    const text = texts.text;
    if (text.length === 0 && !finished && choice.text !== '') return undefined;
    return { ...rest, text };
  }
  const others: JsonObject = { ...(isObject(choice.delta) ? choice.delta : {}) };
  const out: JsonObject = {};
  let released = false;
  let heldBack = false;
  for (const field of fields) {
    const came = others[field];
    if (texts[field].length > 0) {
      out[field] = texts[field];
      released = true;
    } else if (typeof came === 'string') {
      out[field] = '';
      heldBack ||= came.length > 0;
    } else continue;
    delete others[field];
  }
  // Text held back: the chunk goes only for what else it carries (role, tool calls, finish).
  if (!released && heldBack && Object.keys(others).length === 0 && !finished) return undefined;
  return { ...rest, delta: { ...others, ...out } };
}

/**
 * Whether a delta starts a block of its own in a Messages answer: a server tool's block
 * (`server_tool_blocks`), or a text block's sources (`citations`; none at all marks a new
 * uncited text block), which the text before it must not run into or follow.
 */
function startsOwnBlock(delta: JsonObject): boolean {
  const blocks = delta.server_tool_blocks;
  return (Array.isArray(blocks) && blocks.length > 0) || Array.isArray(delta.citations);
}

/** A choice's held text, all final now, field by field in order; or the rule that blocks. */
function flushTails(
  held: ReadonlyMap<string, StreamTail> | undefined,
  fields: readonly string[],
): { texts: Record<string, string>; blocked?: string; part: AnswerPart } {
  const texts: Record<string, string> = {};
  for (const field of fields) {
    const tail = held?.get(field);
    if (!tail) continue;
    const step = tail.flush();
    if (step.text.length > 0) texts[field] = step.text;
    if (step.blocked) {
      return {
        texts,
        blocked: step.blocked,
        part: isReasoningField(field) ? 'reasoning' : 'content',
      };
    }
  }
  return { texts, part: 'content' };
}

/**
 * Whether a delta ends the reasoning before it: answer text, a finished thinking block, or
 * a signed reasoning detail.
 */
function endsReasoning(delta: JsonObject): boolean {
  const { content, refusal, thinking_blocks: blocks } = delta;
  return (
    (typeof content === 'string' && content !== '') ||
    (typeof refusal === 'string' && refusal !== '') ||
    (Array.isArray(blocks) && blocks.length > 0) ||
    signsDetails(delta.reasoning_details)
  );
}

/**
 * The choice with its delta's checked thinking blocks and reasoning details in place of
 * what came: details all held back are left out, and held ones released at the end of the
 * reasoning are added to a delta that had none.
 */
function withDeltaParts(
  choice: JsonObject,
  delta: JsonObject,
  blocks: unknown[] | undefined,
  came: unknown,
  entries: unknown[] | undefined,
): JsonObject {
  if (!blocks && entries === undefined) return choice;
  const out: JsonObject = { ...delta };
  if (blocks) out.thinking_blocks = blocks;
  if (entries !== undefined) {
    if (entries.length > 0) out.reasoning_details = entries;
    else if (came !== undefined) delete out.reasoning_details;
  }
  return { ...choice, delta: out };
}

function isEmptyDelta(choice: JsonObject): boolean {
  return isObject(choice.delta) && Object.keys(choice.delta).length === 0;
}

function callsIn(choice: JsonObject): boolean {
  const delta = choice.delta;
  return isObject(delta) && (delta.tool_calls !== undefined || delta.function_call !== undefined);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
