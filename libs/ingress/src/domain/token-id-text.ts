import type { ProviderKind } from '@aigw/config';

// Token ids carry text only a tokenizer can read. The prompt rules read ids by decoding
// them with the tokenizer of the model that will receive them, so only where the gateway
// knows that tokenizer for certain: OpenAI's own models that take ids (embeddings and the
// legacy completions), by tiktoken's map of models to encodings.

export type TokenizerName = 'cl100k_base';

const TOKENIZER_MODULES: Readonly<Record<TokenizerName, string>> = {
  cl100k_base: 'gpt-tokenizer/encoding/cl100k_base',
};

// text-embedding-3-*, ada-002, gpt-3.5-turbo-instruct, davinci-002 and babbage-002 (their
// dated snapshots and fine-tunes, `ft:<model>:…`, too) all read cl100k. Other providers and
// an Azure deployment (named by its operator, not by its model) are unknown: their ids
// cannot be read, and a route with prompt rules refuses them.
const CL100K_MODELS =
  /^(?:ft:)?(?:text-embedding-3-(?:small|large)|text-embedding-ada-002|gpt-3\.5-turbo-instruct|davinci-002|babbage-002)(?:[-:]|$)/;

/** The tokenizer `model` reads token ids with on `provider`; undefined when not known. */
export function tokenizerOf(provider: ProviderKind, model: string): TokenizerName | undefined {
  if (provider !== 'openai') return undefined;
  return CL100K_MODELS.test(model) ? 'cl100k_base' : undefined;
}

interface Decoder {
  decode(ids: Iterable<number>): string;
}

// Loaded on the first token-id input a rule must read, never at start-up (~100 ms, ~10 MB);
// the module is the one the token estimates load, so the two share it.
const decoders = new Map<TokenizerName, Decoder | null>();

function decoderFor(name: TokenizerName): Decoder | null {
  let decoder = decoders.get(name);
  if (decoder === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      decoder = require(TOKENIZER_MODULES[name]) as Decoder;
    } catch {
      decoder = null; // a missing tokenizer leaves the ids unreadable: the caller refuses them
    }
    decoders.set(name, decoder);
  }
  return decoder;
}

/** What decoding found: the text, no tokenizer to read with, or the first id it lacks. */
export type Decoded =
  { readonly text: string } | { readonly unreadable: true } | { readonly outOfVocabulary: number };

/** `ids` as the text the tokenizer `name` reads them as. */
export function decodeTokenIds(name: TokenizerName, ids: readonly number[]): Decoded {
  const decoder = decoderFor(name);
  if (!decoder) return { unreadable: true };
  try {
    return { text: decoder.decode(ids) };
  } catch {
    // The tokenizer throws at an id it does not have (negative, past its vocabulary, a gap
    // between its special tokens, a fraction): find which, for the refusal.
    return { outOfVocabulary: firstUnknownId(decoder, ids) };
  }
}

function firstUnknownId(decoder: Decoder, ids: readonly number[]): number {
  const index = ids.findIndex((id) => {
    try {
      decoder.decode([id]);
      return false;
    } catch {
      return true;
    }
  });
  return Math.max(index, 0);
}
