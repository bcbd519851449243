// One problem found in a config file, precise enough to fix without reading code:
// which document, which field, what was expected. Never carries a value from the file
// (a value may be a secret), only names and expectations.
import { holdsApiKey } from './api-key-shape';

/** Which YAML document an issue belongs to. */
export interface ConfigDocumentRef {
  /** 0-based position of the document in the file (printed 1-based). */
  readonly index: number;
  readonly kind?: string;
  readonly name?: string;
}

export type PathSegment = string | number;

export class ConfigIssue {
  constructor(
    /** Undefined for problems with the file as a whole (unreadable, empty). */
    readonly document: ConfigDocumentRef | undefined,
    /** Field path such as `spec.backends[1].priority`; empty for the document itself. */
    readonly path: string,
    readonly message: string,
    /** 1-based line in the file, when known. */
    readonly line?: number,
    /** The file name, when loaded from a file. */
    readonly source?: string,
  ) {
    Object.freeze(this);
  }

  /** One line: `file:line: document 2 (AIGatewayRoute "x"): spec.a[0].b: message`. */
  format(): string {
    const where = [this.source, this.line].filter((x) => x !== undefined).join(':');
    const parts: string[] = [];
    if (where !== '') parts.push(where);
    if (this.document) parts.push(describeDocument(this.document));
    if (this.path !== '') parts.push(this.path);
    parts.push(this.message);
    return parts.join(': ').replace(/[\r\n]+/g, ' ');
  }

  toString(): string {
    return this.format();
  }
}

export function describeDocument(doc: ConfigDocumentRef): string {
  const label = [doc.kind, doc.name === undefined ? undefined : `"${doc.name}"`]
    .filter((x) => x !== undefined)
    .join(' ');
  return `document ${doc.index + 1}${label === '' ? '' : ` (${label})`}`;
}

/** `['spec', 'backends', 1, 'priority']` -> `spec.backends[1].priority`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    // A field name is the file's text too: a key pasted as one (`apiKeyRef: {sk-...}`).
    else if (holdsApiKey(segment)) out += '[<a name that looks like an API key>]';
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
