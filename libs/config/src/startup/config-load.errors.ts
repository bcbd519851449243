// Thrown when the process cannot start because of its configuration. The message is the
// one-line causes; the stack is dropped on purpose so a top-level handler prints only them.
export class ConfigLoadError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigLoadError';
    this.stack = `${this.name}: ${this.message}`;
  }
}
