// The `ai-gateway` command line (bin/ai-gateway.js loads this). Exit codes: 0 valid,
// 1 invalid config, 2 usage error.
import { validateCommand, type CliIo } from './validate.command';

export const USAGE = [
  'usage: ai-gateway validate [--allow-missing-secrets] FILE',
  '',
  '  validate   check a gateway config file without starting anything',
  '             --allow-missing-secrets  report unresolved apiKeyRefs as warnings',
].join('\n');

export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command !== 'validate') {
    io.err(
      command === undefined ? 'error: missing command' : `error: unknown command "${command}"`,
    );
    io.err(USAGE);
    return 2;
  }
  const flags = rest.filter((a) => a.startsWith('-'));
  const files = rest.filter((a) => !a.startsWith('-'));
  const unknown = flags.filter((f) => f !== '--allow-missing-secrets');
  if (unknown.length > 0 || files.length !== 1) {
    io.err(
      unknown.length > 0
        ? `error: unknown option ${unknown.join(', ')}`
        : `error: validate takes exactly one FILE`,
    );
    io.err(USAGE);
    return 2;
  }
  const policy = flags.includes('--allow-missing-secrets') ? 'warn' : 'error';
  return validateCommand(files[0] ?? '', policy, io);
}

/** Runs with the real process and exits with the command's code. */
export function runCliAndExit(args: readonly string[] = process.argv.slice(2)): void {
  const io: CliIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  };
  runCli(args, io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // A bug, not bad input: still one line, no stack, no values.
      process.stderr.write(
        `error: internal failure (${error instanceof Error ? error.name : 'unknown'})\n`,
      );
      process.exitCode = 1;
    },
  );
}
