// A virtualenv with the official Python SDKs (openai, anthropic) at the versions pinned in
// requirements.txt, for e2e suites that drive the gateway the way most production callers
// do. It is built once per machine under the home directory's cache, keyed by the pinned
// list, and reused after; pip's own cache (also under home) keeps a rebuild quick.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

const REQUIREMENTS = join(__dirname, 'requirements.txt');
/** Written last into a finished build, before it is renamed into place. */
const COMPLETE_MARKER = '.aigw-complete';
/** A build directory this old was left by a run that died: no install takes that long. */
const ABANDONED_BUILD_MS = 60 * 60_000;
/** A cold install (downloads included) took about 25 s here; this bounds a stuck one. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** Where the venvs live: AIGW_PYTHON_SDK_CACHE, or ~/.cache/aigw/python-sdk-venv. */
function cacheRoot(): string {
  return process.env.AIGW_PYTHON_SDK_CACHE ?? join(homedir(), '.cache', 'aigw', 'python-sdk-venv');
}

/** The venv directory for the current pinned list: a changed pin makes a new one. */
export function pythonSdkVenvDir(): string {
  const pins = readFileSync(REQUIREMENTS);
  const key = createHash('sha256').update(pins).digest('hex').slice(0, 16);
  return join(cacheRoot(), key);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve();
        const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n');
        reject(new Error(`${command} ${args.join(' ')} failed (${error.message}):\n${output}`));
      },
    );
  });
}

/**
 * The python of a venv with the pinned SDKs, building it first if this machine has none.
 * Rejects (never skips) when python3 or the install fails: a suite that needs the SDKs
 * must fail where they cannot be had. Two first runs at once each build in a directory of
 * their own and rename it into place; the second rename finds the first's venv and keeps it.
 */
export async function ensurePythonSdkVenv(): Promise<string> {
  const dir = pythonSdkVenvDir();
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, COMPLETE_MARKER))) return python;

  mkdirSync(cacheRoot(), { recursive: true });
  removeAbandonedBuilds();
  const build = mkdtempSync(join(cacheRoot(), '.build-'));
  try {
    await run('python3', ['-m', 'venv', build]);
    const buildPython = join(build, 'bin', 'python');
    await run(buildPython, [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      '--requirement',
      REQUIREMENTS,
    ]);
    await run(buildPython, ['-c', 'import openai, anthropic, pydantic']);
    await writeFile(join(build, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
    // A venv's python finds its packages from where it stands (pyvenv.cfg beside bin/),
    // so the finished one works under its final name; its pip scripts are not used.
    try {
      renameSync(build, dir);
    } catch (error) {
      // Another run renamed its build into place first (only a finished build is ever
      // renamed there): use that one.
      if (!existsSync(join(dir, COMPLETE_MARKER))) throw error;
    }
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  return python;
}

/** Removes the build directories of runs killed mid-install (each holds a whole venv). */
function removeAbandonedBuilds(): void {
  for (const name of readdirSync(cacheRoot())) {
    if (!name.startsWith('.build-')) continue;
    const path = join(cacheRoot(), name);
    try {
      if (Date.now() - statSync(path).mtimeMs > ABANDONED_BUILD_MS) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // another run removed or renamed it meanwhile
    }
  }
}
