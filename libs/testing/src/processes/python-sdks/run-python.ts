import { execFile } from 'node:child_process';

/** One line a check script printed: `{"check": name, ...what it saw}`. */
export type PythonCheck = Record<string, unknown> & { check: string };

/** How long one script may run: it makes a handful of calls to a local gateway. */
const SCRIPT_TIMEOUT_MS = 120_000;

/**
 * Runs a Python check script with `python` and returns what each check printed, by name.
 * The script prints one JSON object per line; a script that fails (an exception the
 * script did not expect) rejects with its output, so the test shows the traceback.
 */
export function runPythonChecks(
  python: string,
  script: string,
  env: Record<string, string>,
): Promise<Map<string, PythonCheck>> {
  return new Promise((resolve, reject) => {
    execFile(
      python,
      [script],
      {
        timeout: SCRIPT_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        // No proxy from the environment between the SDK and the local gateway, and no
        // __pycache__ left beside the scripts in the work tree.
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          PYTHONDONTWRITEBYTECODE: '1',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${script} failed (${error.message}):\n${stdout}\n${stderr}`));
          return;
        }
        const checks = new Map<string, PythonCheck>();
        for (const line of stdout.split('\n')) {
          if (line.trim() === '') continue;
          const check = JSON.parse(line) as PythonCheck;
          checks.set(check.check, check);
        }
        resolve(checks);
      },
    );
  });
}
