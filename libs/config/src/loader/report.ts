// Collects what a load found: errors (the file is refused), warnings (loaded, but look
// at this), inferences (what the loader filled in for you) and notes (what it left aside,
// such as a document that is not for the gateway).
import {
  ConfigIssue,
  formatPath,
  type ConfigDocumentRef,
  type PathSegment,
} from '../domain/config-issue';

export interface DocumentContext {
  readonly ref: ConfigDocumentRef;
  readonly lineOf: (segments: readonly PathSegment[]) => number | undefined;
}

export class LoadReport {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  readonly inferences: ConfigIssue[] = [];
  readonly notes: ConfigIssue[] = [];

  constructor(private readonly source?: string) {}

  error(doc: DocumentContext | undefined, segments: readonly PathSegment[], message: string) {
    this.errors.push(this.issue(doc, segments, message));
  }

  warn(doc: DocumentContext | undefined, segments: readonly PathSegment[], message: string) {
    this.warnings.push(this.issue(doc, segments, message));
  }

  infer(doc: DocumentContext | undefined, segments: readonly PathSegment[], message: string) {
    this.inferences.push(this.issue(doc, segments, message));
  }

  note(doc: DocumentContext | undefined, segments: readonly PathSegment[], message: string) {
    this.notes.push(this.issue(doc, segments, message));
  }

  /** An issue whose line is already known (YAML syntax errors). */
  raw(document: ConfigDocumentRef | undefined, line: number | undefined, message: string) {
    return new ConfigIssue(document, '', message, line, this.source);
  }

  private issue(
    doc: DocumentContext | undefined,
    segments: readonly PathSegment[],
    message: string,
  ): ConfigIssue {
    return new ConfigIssue(
      doc?.ref,
      formatPath(segments),
      message,
      doc?.lineOf(segments),
      this.source,
    );
  }
}
