import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

// A model turn sent back with the code Gemini's codeExecution tool ran in it (the
// executableCode and codeExecutionResult parts the gateway's answer carried): the
// canonical request has no such parts, so each becomes a fenced block of the turn's text,
// which every backend reads and the model sees what it ran and what came out.

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(field: string, problem: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Invalid value at '${field}': ${problem}`,
    { param: field },
  );
}

function optionalString(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalid(field, 'a string is required');
  return value;
}

/** A fenced block, its label after the fence; one trailing newline of the body is the fence's. */
function fenced(label: string, body: string): string {
  return `\n\`\`\`${label}\n${body.replace(/\n$/, '')}\n\`\`\`\n`;
}

/** Whether a model turn's part is one of codeExecution's. */
export function isCodeExecutionPart(part: JsonObject): boolean {
  return part.executableCode !== undefined || part.codeExecutionResult !== undefined;
}

/** An executableCode or codeExecutionResult part as text (`at` the part's field). */
export function codeExecutionText(part: JsonObject, at: string): string {
  if (part.executableCode !== undefined) {
    const code = part.executableCode;
    const codeAt = `${at}.executable_code`;
    if (!isObject(code)) throw invalid(codeAt, 'an ExecutableCode object is required');
    if (typeof code.code !== 'string') throw invalid(`${codeAt}.code`, 'a string is required');
    const language = optionalString(code.language, `${codeAt}.language`);
    return fenced(language === 'LANGUAGE_UNSPECIFIED' ? '' : language.toLowerCase(), code.code);
  }
  const result = part.codeExecutionResult;
  const resultAt = `${at}.code_execution_result`;
  if (!isObject(result)) throw invalid(resultAt, 'a CodeExecutionResult object is required');
  const outcome = optionalString(result.outcome, `${resultAt}.outcome`);
  const output = optionalString(result.output, `${resultAt}.output`);
  // A run that failed says so, as its outcome; a clean one is its output alone.
  const failed = outcome !== '' && outcome !== 'OUTCOME_OK';
  return fenced(failed ? `output ${outcome}` : 'output', output);
}
