import { StartupError } from '@aigw/runtime';

/** A failure at start is one line on stderr and a non-zero exit, never a stack trace. */
export function exitWithStartupError(error: unknown): never {
  const message =
    error instanceof StartupError
      ? error.message
      : `unexpected failure at start: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`ai-gateway: ${message}\n`);
  if (!(error instanceof StartupError) && error instanceof Error && process.env.AI_GATEWAY_DEBUG) {
    process.stderr.write(`${error.stack ?? ''}\n`);
  }
  process.exit(1);
}
