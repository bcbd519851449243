// Reads a V8 .cpuprofile (node --cpu-prof) and ranks where the time went: by function
// (self time), by function including callees (our own code only), and by package.
import { readFileSync } from 'node:fs';

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** A short, readable home for a frame: repo-relative source path, package or node core. */
export function frameHome(url, root) {
  if (!url) return '(native)';
  let path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  if (path.startsWith('node:')) return path;
  if (path.startsWith(`${root}/`)) path = path.slice(root.length + 1);
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) return path.slice(inModules + 'node_modules/'.length);
  // Our build writes dist/<apps|libs>/... beside the TypeScript it came from.
  const ours = /^dist\/((?:apps|libs)\/.*)\.js$/.exec(path);
  return ours ? `${ours[1]}.ts` : path;
}

function packageOf(home) {
  if (home.startsWith('node:')) return 'node core (js)';
  if (home === '(native)') return '(native / builtins)';
  if (/^(apps|libs)\//.test(home)) return `ours: ${home.split('/').slice(0, 2).join('/')}`;
  if (home.startsWith('bench/')) return 'bench';
  const parts = home.split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/**
 * `window` ({ fromUs, toUs }, microseconds since the profile started) keeps only the
 * samples taken under load, leaving out start-up and shutdown.
 */
export function summarizeCpuProfile(file, root, top = 15, window = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const fromUs = window.fromUs ?? 0;
  const toUs = window.toUs ?? Number.POSITIVE_INFINITY;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);

  let total = 0;
  let idle = 0;
  let gc = 0;
  let program = 0;
  const functions = new Map();
  const packages = new Map();
  const inclusiveOurs = new Map();
  for (const [id, micros] of self) {
    const node = byId.get(id);
    const frame = node.callFrame;
    total += micros;
    if (frame.functionName === '(idle)') idle += micros;
    else if (frame.functionName === '(garbage collector)') gc += micros;
    else if (frame.functionName === '(program)') program += micros;
    if (SPECIAL.has(frame.functionName)) continue;
    const home = frameHome(frame.url, root);
    const key = `${frame.functionName || '(anonymous)'}  ${home}:${frame.lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + micros);
    const pkg = packageOf(home);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    // Charge this sample to every distinct function of ours on its stack.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at).callFrame;
      const fHome = frameHome(f.url, root);
      if (!/^(apps|libs)\//.test(fHome)) continue;
      const fKey = `${f.functionName || '(anonymous)'}  ${fHome}:${f.lineNumber + 1}`;
      if (seen.has(fKey)) continue;
      seen.add(fKey);
      inclusiveOurs.set(fKey, (inclusiveOurs.get(fKey) ?? 0) + micros);
    }
  }
  const busy = total - idle;
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({
        name,
        ms: micros / 1000,
        shareOfBusy: busy > 0 ? micros / busy : 0,
      }));
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    gcShare: busy > 0 ? gc / busy : 0,
    programShare: busy > 0 ? program / busy : 0,
    selfTop: rank(functions),
    packages: rank(packages),
    oursInclusive: rank(inclusiveOurs),
  };
}
