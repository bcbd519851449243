// `new Date().toISOString()` cost ~450 ns, half of building an event. Events made in the
// same second share everything up to the milliseconds, so that part is formatted once.

let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** The same string as `new Date(ms).toISOString()` (years 1970-9999), cheaper. */
export function isoTimestamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    // "YYYY-MM-DDTHH:MM:SS." from the engine itself, so no calendar logic lives here.
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  const millis = ms - second * 1000;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
