// Turns a validated `security.promptValidation.redact` into RedactConfig.
import { type PathSegment } from '../domain/config-issue';
import { operatorRegExp } from '../domain/operator-regex';
import {
  REDACT_DETECTORS,
  type RedactConfig,
  type RedactDetectorConfig,
  type RedactDetectorName,
  type RedactMode,
  type RedactPatternConfig,
} from '../domain/redact-config';
import { type RedactDto } from '../schema/traffic.dto';
import { type DocumentContext, type LoadReport } from './report';

/** Undefined when there is nothing to detect, so the edge skips the prompt walk entirely. */
export function normalizeRedact(
  dto: RedactDto | undefined,
  path: readonly PathSegment[],
  doc: DocumentContext,
  report: LoadReport,
): RedactConfig | undefined {
  if (!dto) return undefined;
  const names = new Set<string>();
  const detectors: RedactDetectorConfig[] = [];
  (dto.detectors ?? []).forEach((detector, index) => {
    if (names.has(detector.name)) {
      report.error(doc, [...path, 'detectors', index], `"${detector.name}" is listed twice`);
    }
    names.add(detector.name);
    detectors.push({
      name: detector.name as RedactDetectorName,
      mode: (detector.mode ?? 'redact') as RedactMode,
    });
  });
  const patterns: RedactPatternConfig[] = [];
  (dto.patterns ?? []).forEach((pattern, index) => {
    const at = [...path, 'patterns', index];
    if ((REDACT_DETECTORS as readonly string[]).includes(pattern.name)) {
      report.error(doc, [...at, 'name'], `"${pattern.name}" is a built-in detector's name`);
    } else if (names.has(pattern.name)) {
      report.error(doc, [...at, 'name'], `duplicate pattern "${pattern.name}"`);
    }
    names.add(pattern.name);
    // A pattern matching nothing at all would put a placeholder between every character.
    // Read as the edge reads it: `\p{N}*` is a run of digits only with the u flag.
    if (operatorRegExp(`^(?:${pattern.regex})$`, 'i').test('')) {
      report.error(doc, [...at, 'regex'], 'must not match an empty text');
    }
    patterns.push({
      name: pattern.name,
      regex: pattern.regex,
      mode: (pattern.mode ?? 'redact') as RedactMode,
    });
  });
  if (detectors.length === 0 && patterns.length === 0) {
    report.warn(doc, path, 'lists no detectors and no patterns: nothing is redacted');
    return undefined;
  }
  return { detectors, patterns };
}
