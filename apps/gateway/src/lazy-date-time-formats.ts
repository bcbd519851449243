/**
 * NestJS's two loggers each build an Intl.DateTimeFormat when their modules load, only to
 * stamp Nest's own console lines, which the gateway does not print (its logs are JSON).
 * Building one maps ICU's locale data: about 8 MB more resident memory from start-up on
 * (5 MB of it file pages of the node binary), measured with bench/probe.mjs, and nothing
 * else the gateway runs touches ICU. While the module graph loads, a format built is a
 * stand-in that builds the real one on first use, so the stamps are unchanged.
 */
type DateTimeFormatConstructor = typeof Intl.DateTimeFormat;

/** The methods a stand-in passes on to the real format it builds on first use. */
const METHODS = [
  'format',
  'formatToParts',
  'formatRange',
  'formatRangeToParts',
  'resolvedOptions',
] as const;

function deferredDateTimeFormat(
  real: DateTimeFormatConstructor,
): (locales?: Intl.LocalesArgument, options?: Intl.DateTimeFormatOptions) => object {
  // A function, not an arrow: Nest calls it with `new`, which hands back the object returned.
  return function standInFormat(locales, options) {
    let built: Intl.DateTimeFormat | undefined;
    const target = (): Intl.DateTimeFormat => (built ??= new real(locales, options));
    const standIn: Record<string, unknown> = {};
    for (const method of METHODS) {
      standIn[method] = (...args: unknown[]) =>
        (target()[method] as (...a: unknown[]) => unknown)(...args);
    }
    return standIn;
  };
}

/**
 * Installs the stand-in as Intl.DateTimeFormat and returns what puts the real one back;
 * call it once the modules are loaded, before serving.
 */
export function deferDateTimeFormats(): () => void {
  const real = Intl.DateTimeFormat;
  Intl.DateTimeFormat = deferredDateTimeFormat(real) as unknown as DateTimeFormatConstructor;
  return () => {
    Intl.DateTimeFormat = real;
  };
}
