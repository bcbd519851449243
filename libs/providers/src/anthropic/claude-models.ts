// Which Claude a model id names, in every naming it comes in: Anthropic's API ids
// (claude-opus-4-1, claude-opus-4-1-20250805, claude-3-5-sonnet-latest), Bedrock's
// (anthropic.claude-opus-4-1-20250805-v1:0, anthropic.claude-v2:1), its inference profiles
// (us.anthropic..., global.anthropic...) and ARNs, Vertex AI's (claude-opus-4-1@20250805,
// claude-3-5-sonnet-v2@20241022), and dotted ones some gateways use (claude-3.7-sonnet).
// The rules for what a model takes (sampling, thinking) read this, never the id itself.

/** A Claude generation: 3.7 is {major: 3, minor: 7}; Sonnet 4 is {major: 4, minor: 0}. */
export interface ClaudeVersion {
  readonly major: number;
  readonly minor: number;
}

/** What a Claude model id says of its model. */
export interface ClaudeModel {
  /**
   * opus, sonnet, haiku, instant, or a later name (fable, mythos); absent for the Claude 1
   * and 2 ids that name none (claude-2.1, anthropic.claude-v2).
   */
  readonly family?: string;
  /** Absent when the id names no version (claude-mythos-preview). */
  readonly version?: ClaudeVersion;
}

/**
 * claude-v2 (Bedrock's Claude 2.0), claude-v2:1 (Bedrock's Claude 2.1: here the `:1` right
 * after `v<major>` is the minor, unlike a later id's `-v1:0` version suffix), claude-v2.1.
 */
const BEDROCK_V = /claude-v(\d+)(?:[.:](\d))?(?![\d.])/;
/** Before Claude 4 the version came first: claude-3-5-sonnet, claude-3.7-sonnet, claude-2.1. */
const VERSION_FIRST = /claude-(\d+)(?:[-.](\d)(?!\d))?(?:-([a-z]+))?/;
/**
 * From Claude 4 the family comes first: claude-opus-4-1, claude-sonnet-4-20250514 (no
 * minor: the 8 digits are a date), claude-instant-v1, claude-mythos-preview.
 */
const FAMILY_FIRST = /claude-([a-z]+)(?:-v?(\d+)(?:[-.](\d{1,2})(?!\d))?)?/;

/** The Claude `model` names; undefined when the id does not say Claude. */
export function readClaudeModel(model: string): ClaudeModel | undefined {
  const id = model.toLowerCase();
  if (!id.includes('claude')) return undefined;
  const bedrockV = BEDROCK_V.exec(id);
  if (bedrockV) return { version: { major: Number(bedrockV[1]), minor: Number(bedrockV[2] ?? 0) } };
  const versionFirst = VERSION_FIRST.exec(id);
  if (versionFirst) {
    const [, major, minor, family] = versionFirst;
    return {
      ...(family === undefined ? {} : { family }),
      version: { major: Number(major), minor: Number(minor ?? 0) },
    };
  }
  const familyFirst = FAMILY_FIRST.exec(id);
  if (familyFirst) {
    const [, family, major, minor] = familyFirst;
    if (major === undefined) return { family };
    return { family, version: { major: Number(major), minor: Number(minor ?? 0) } };
  }
  // "claude" alone, or in a name this code cannot read: a Claude of unknown generation.
  return {};
}

/** Whether `version` is `major`.`minor` or later; an unknown version is the latest. */
export function isAtLeast(version: ClaudeVersion | undefined, major: number, minor = 0): boolean {
  if (version === undefined) return true;
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** Whether the model is `family` at exactly `major`.`minor`. */
export function isModel(model: ClaudeModel, family: string, major: number, minor: number): boolean {
  return model.family === family && model.version?.major === major && model.version.minor === minor;
}
