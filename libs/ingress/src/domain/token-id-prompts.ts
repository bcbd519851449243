import { backendsForModel, upstreamModel, type RouteConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  PROMPT_TEXT_FIELDS,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { RedactionTally, Redactor } from '../redaction/redactor';
import type { PromptGuard } from './prompt-guard';
import { decodeTokenIds, tokenizerOf, type TokenizerName } from './token-id-text';

// An embeddings input or a completion's prompt sent as token ids reaches the model as the
// text the ids stand for, which no rule reading strings sees. On a route with prompt rules
// the ids are decoded with the tokenizer of every backend that may receive them and the
// rules read that text; ids no known tokenizer can read are refused, as the rules cannot
// vouch for them. Masking cannot be done on ids (a placeholder has no faithful ids in
// every tokenizer), so text a redact rule would mask refuses the request instead.

/** The rules a route applies to prompts: blockPatterns and `redact`, either may be off. */
export interface PromptRules {
  /** Present when blockPatterns apply. */
  readonly guard?: PromptGuard;
  readonly redactor?: Redactor;
}

/** Every text field but messages: where OpenAI's API (or a decoy beside it) takes ids. */
const ID_FIELDS = PROMPT_TEXT_FIELDS.filter((field) => field !== 'messages');

/**
 * The lists of token ids in a field's value, each one input as the model reads it: the
 * value itself when it holds ids, and each list of ids in it; undefined when there are none
 * (text, the common case, costs a pass over the list and nothing allocated).
 */
export function tokenIdLists(value: unknown): number[][] | undefined {
  if (!Array.isArray(value)) return undefined;
  let direct: number[] | undefined;
  let lists: number[][] | undefined;
  for (const item of value) {
    if (typeof item === 'number') (direct ??= []).push(item);
    else if (Array.isArray(item)) {
      const ids = item.filter((id): id is number => typeof id === 'number');
      if (ids.length > 0) (lists ??= []).push(ids);
    }
  }
  if (!direct) return lists;
  return lists ? [direct, ...lists] : [direct];
}

/**
 * Applies `rules` to the token ids of `body` on `route`, for a request to `model`: each
 * field's ids decoded and read as its text would be. Throws PromptBlocked naming the rule
 * (a block match, or text a redact rule would mask), or InvalidRequest naming the field
 * (ids no tokenizer known for the route's backends can read, or an id out of vocabulary).
 */
export function checkTokenIdPrompts(
  route: RouteConfig,
  model: string,
  body: JsonObject,
  rules: PromptRules,
): void {
  for (const field of ID_FIELDS) {
    const lists = tokenIdLists(body[field]);
    if (!lists) continue;
    for (const tokenizer of tokenizersFor(route, model, field)) {
      const text = decodedText(tokenizer, lists, field, model);
      rules.guard?.check(text, field);
      if (rules.redactor) refuseMasking(rules.redactor, text, field);
    }
  }
}

/**
 * The tokenizers of every backend a request for `model` may reach: its own and, with
 * `retry.fallbackStrategy: cheaperModel`, those of the models after it in fallbackOrder.
 * One unknown among them and the ids cannot be vouched for wherever they land.
 */
function tokenizersFor(route: RouteConfig, model: string, field: string): Set<TokenizerName> {
  const models = [model];
  const retry = route.retry;
  if (retry?.fallbackStrategy === 'cheaperModel') {
    const position = retry.fallbackOrder.indexOf(model);
    if (position >= 0) models.push(...retry.fallbackOrder.slice(position + 1));
  }
  const tokenizers = new Set<TokenizerName>();
  for (const viaModel of models) {
    for (const backend of backendsForModel(route, viaModel)) {
      const tokenizer = tokenizerOf(backend.provider, upstreamModel(backend, viaModel));
      if (!tokenizer) throw uncheckable(field, model);
      tokenizers.add(tokenizer);
    }
  }
  if (tokenizers.size === 0) throw uncheckable(field, model);
  return tokenizers;
}

/** The ids' text, each list one input, joined as a list of strings is for the rules. */
function decodedText(
  tokenizer: TokenizerName,
  lists: readonly number[][],
  field: string,
  model: string,
): string {
  const texts: string[] = [];
  for (const ids of lists) {
    const decoded = decodeTokenIds(tokenizer, ids);
    if ('unreadable' in decoded) throw uncheckable(field, model);
    if ('outOfVocabulary' in decoded) {
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `'${field}' holds ${JSON.stringify(ids[decoded.outOfVocabulary])}, which is not a token id of the tokenizer of model "${model}"`,
        { param: field },
      );
    }
    texts.push(decoded.text);
  }
  return texts.join('\n');
}

/** A block rule's match refuses as on text; a match to mask refuses, as ids cannot be masked. */
function refuseMasking(redactor: Redactor, text: string, field: string): void {
  const masked: RedactionTally = new Map();
  if (redactor.redact(text, masked, field) === text) return;
  // Names the rules, never the text that matched them.
  throw new DataPlaneError(
    DataPlaneErrorCode.PromptBlocked,
    `The prompt was blocked by rule security.promptValidation.redact (${[...masked.keys()].join(', ')}): '${field}' was sent as token ids, which cannot be masked; send it as text`,
    { param: field },
  );
}

function uncheckable(field: string, model: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `'${field}' was sent as token ids, which cannot be checked against the prompt rules for model "${model}" (its tokenizer is not known to the gateway); send '${field}' as text`,
    { param: field },
  );
}
