// Splits a multi-document YAML text into plain values, keeping enough of the parse to
// point an error at a line. Syntax errors come back as one line each, with the line number.
import { Composer, Lexer, LineCounter, Parser, visit, type CST, type Document } from 'yaml';
import { type PathSegment } from '../domain/config-issue';
import { withEnvCopy } from './env-copy';
import { type Steps } from './steps';

type Token = CST.Token;

export interface YamlDocument {
  /** 0-based position in the stream (as counted by `---` separators, empty ones included). */
  readonly index: number;
  readonly value: unknown;
  /** 1-based line of the deepest existing node on `segments`. */
  readonly lineOf: (segments: readonly PathSegment[]) => number | undefined;
}

export interface YamlSyntaxError {
  readonly documentIndex: number;
  readonly line?: number;
  readonly message: string;
  /** Not a syntax error as such: the message is shown without "YAML syntax error". */
  readonly plain?: boolean;
}

export interface YamlParse {
  readonly documents: YamlDocument[];
  readonly errors: YamlSyntaxError[];
  readonly warnings: YamlSyntaxError[];
}

/** Lexemes read between pause points: a few milliseconds of lexing and parsing. */
const LEXEMES_PER_STEP = 2_000;

/**
 * What `parseAllDocuments` does (lexer, parser, composer, with the same options), driven a
 * lexeme at a time so the work can pause; a document is composed when its last token is
 * read. Also notes whether the text has an alias at all: most files have none, and then
 * the walk looking for bad ones is skipped.
 */
function* composeDocuments(
  text: string,
  lineCounter: LineCounter,
): Steps<{ documents: Document[]; hasAlias: boolean }> {
  // merge: `<<: *defaults` as kubectl and Helm (YAML 1.1) read it; YAML 1.2 alone has no
  // merge keys, and "<<" would be refused as an unknown field.
  // logLevel 'error': yaml's own process warnings are off. One quotes the start of a
  // collection used as a field name (`{{sk-...}}`), which may be a pasted key, to stderr.
  const composer = new Composer({
    lineCounter,
    prettyErrors: false,
    merge: true,
    logLevel: 'error',
  });
  // The parser's own parse() reports the first line's start before lexing; so does this.
  lineCounter.addNewLine(0);
  const parser = new Parser(lineCounter.addNewLine);
  const documents: Document[] = [];
  const compose = (tokens: Iterable<Token>) => {
    for (const token of tokens) for (const doc of composer.next(token)) documents.push(doc);
  };
  let hasAlias = false;
  const lexemes = new Lexer().lex(text);
  /** Reads up to a step's lexemes; true once the text is done. */
  const readStep = () => {
    for (let read = 0; read < LEXEMES_PER_STEP; read++) {
      const next = lexemes.next();
      if (next.done === true) return true;
      // An alias is always a lexeme of its own, starting with its "*".
      if (next.value.startsWith('*')) hasAlias = true;
      compose(parser.next(next.value));
    }
    return false;
  };
  while (!withEnvCopy(readStep)) yield;
  withEnvCopy(() => {
    compose(parser.end());
    for (const doc of composer.end()) documents.push(doc);
  });
  return { documents, hasAlias };
}

export function* yamlDocumentSteps(text: string): Steps<YamlParse> {
  const lineCounter = new LineCounter();
  const { documents: all, hasAlias } = yield* composeDocuments(text, lineCounter);
  const documents: YamlDocument[] = [];
  const errors: YamlSyntaxError[] = [];
  const warnings: YamlSyntaxError[] = [];
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  for (const [position, doc] of all.entries()) {
    yield;
    for (const e of doc.errors) {
      errors.push({
        documentIndex: position,
        line: lineAt(e.pos[0]),
        message: firstLine(e.message),
      });
    }
    for (const w of doc.warnings) {
      warnings.push({
        documentIndex: position,
        line: lineAt(w.pos[0]),
        message: firstLine(w.message),
      });
    }
    if (doc.errors.length > 0 || doc.contents === null) continue;
    const badAlias = hasAlias ? aliasProblem(doc) : undefined;
    if (badAlias !== undefined) {
      errors.push({
        documentIndex: position,
        line: lineAt(badAlias.offset),
        message: badAlias.message,
        plain: true,
      });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // The alias count guard throws; so would anything else toJS cannot build.
      const excessive = error instanceof Error && /Excessive alias count/.test(error.message);
      errors.push({
        documentIndex: position,
        message: excessive
          ? `aliases expand to more than ${MAX_ALIAS_COUNT} copies of an anchor (a guard against alias bombs)`
          : `cannot read the document (${error instanceof Error ? error.name : 'unknown error'})`,
        plain: true,
      });
      continue;
    }
    // A document of comments only is not a document the user meant.
    if (value === null || value === undefined) continue;
    documents.push({
      index: position,
      value,
      lineOf: (segments) => {
        for (let depth = segments.length; depth >= 0; depth--) {
          const node: unknown = doc.getIn(segments.slice(0, depth), true);
          const range = (node as { range?: [number, number, number] } | undefined)?.range;
          if (range) return lineAt(range[0]);
        }
        return undefined;
      },
    });
  }
  return { documents, errors, warnings };
}

/** How often toJS lets one anchor be copied through aliases (alias bombs stop here). */
const MAX_ALIAS_COUNT = 100;

/**
 * The first alias that names no anchor set before it (toJS would throw), or one of its own
 * ancestors (`a: &x [*x]`: its value would be a cycle, which every later walk of the config,
 * validation and freezing, would follow forever).
 */
function aliasProblem(doc: Document): { message: string; offset?: number } | undefined {
  let found: { message: string; offset?: number } | undefined;
  visit(doc, {
    Alias(_key, alias, path) {
      const target = alias.resolve(doc);
      const name = `*${alias.source.slice(0, 60)}`;
      if (target === undefined) {
        found = { message: `alias ${name} names no anchor set before it` };
      } else if (path.includes(target)) {
        found = { message: `alias ${name} refers to a node that contains it (a recursive alias)` };
      } else return undefined;
      found = { ...found, offset: alias.range?.[0] };
      return visit.BREAK;
    },
  });
  return found;
}

function firstLine(message: string): string {
  return withoutSource(message.split('\n')[0]?.trim() ?? message);
}

/**
 * yaml quotes the text it stopped at in a few of its messages; that text could be a key
 * pasted into the file, and these messages are logged. The line number says where it is.
 */
const QUOTING_SOURCE: readonly [RegExp, string][] = [
  [/^(Unexpected .+ token in YAML stream): .*$/, '$1'],
  [/^(Block scalar header includes extra characters): .*$/, '$1'],
  [/^(Unresolved plain scalar) .*$/, '$1'],
  [/^(Not a valid tag|Could not resolve tag|Unresolved tag): .*$/, '$1'],
  [/^The .+ tag has no suffix$/, 'A tag has no suffix'],
  [/^(Verbatim tags aren't resolved), so .+ is invalid\.$/, '$1'],
];

function withoutSource(message: string): string {
  for (const [pattern, replacement] of QUOTING_SOURCE) {
    if (pattern.test(message)) return message.replace(pattern, replacement);
  }
  return message;
}
