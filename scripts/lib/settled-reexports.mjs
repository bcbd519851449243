// `export * from './x'` compiles (SWC, CommonJS) to a getter per name on the barrel, all of
// them one shared function reading `from[k]`. That read is megamorphic and never inlined:
// every call through `@aigw/contracts` and the other barrels paid it, ~5% of the
// all-in-one gateway's CPU a request (bench:paired, 6 rounds, B/A 0.949).
// The build gives each re-exported name a getter that reads it once, on first use, and
// leaves a plain property behind. That equals a live binding as long as no exported
// binding is ever reassigned, which the lint rule against `export let`/`export var` keeps.

/** SWC's inline helper, whitespace aside. */
const SWC_EXPORT_STAR =
  /function _export_star\(from, to\) \{\s*Object\.keys\(from\)\.forEach\(function\(k\) \{\s*if \(k !== "default" && !Object\.prototype\.hasOwnProperty\.call\(to, k\)\) \{\s*Object\.defineProperty\(to, k, \{\s*enumerable: true,\s*get: function\(\) \{\s*return from\[k\];\s*\}\s*\}\);\s*\}\s*\}\);\s*return from;\s*\}/;

const SETTLING_EXPORT_STAR = `function _export_star(from, to) {
    Object.keys(from).forEach(function(k) {
        if (k !== "default" && !Object.prototype.hasOwnProperty.call(to, k)) {
            Object.defineProperty(to, k, {
                enumerable: true,
                configurable: true,
                get: function() {
                    var value = from[k];
                    Object.defineProperty(to, k, { enumerable: true, value: value });
                    return value;
                }
            });
        }
    });
    return from;
}`;

/**
 * `code` (one compiled module) with SWC's `_export_star` replaced by the settling one.
 * Throws when the module has an `_export_star` this does not recognise (a newer SWC), so
 * a build never ships the slow helper unnoticed.
 */
export function settleReexports(code, file) {
  if (!code.includes('function _export_star(')) return code;
  if (!SWC_EXPORT_STAR.test(code)) {
    throw new Error(
      `${file}: SWC's _export_star helper changed; update scripts/lib/settled-reexports.mjs`,
    );
  }
  return code.replace(SWC_EXPORT_STAR, SETTLING_EXPORT_STAR);
}
