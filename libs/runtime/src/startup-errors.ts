import { InvalidSettingError } from '@aigw/config';
import { redactString } from '@aigw/observability';
import { StartupError } from './listen';

/** A failure at start is one line on stderr and a non-zero exit, never a stack trace. */
export function exitWithStartupError(error: unknown): never {
  const expected = error instanceof StartupError || error instanceof InvalidSettingError;
  const message = expected
    ? error.message
    : `unexpected failure at start: ${error instanceof Error ? error.message : String(error)}`;
  // stderr is the pod's log: a refusal quoting a setting (a URL with its password, a key)
  // passes the same redaction as every log line.
  process.stderr.write(`ai-gateway: ${redactString(message)}\n`);
  if (!expected && error instanceof Error && process.env.AI_GATEWAY_DEBUG) {
    process.stderr.write(`${redactString(error.stack ?? '')}\n`);
  }
  process.exit(1);
}

/** Turns a listen failure from a framework into the one-line cause. */
export function listenFailure(error: unknown, port: number, setting: string): StartupError {
  if (error instanceof StartupError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new StartupError(`port ${port} is already in use (set ${setting} to another port)`);
  }
  if (code === 'EACCES')
    return new StartupError(`no permission to listen on port ${port} (${setting})`);
  return new StartupError(`cannot listen on port ${port} (${setting}): ${code ?? String(error)}`);
}
