/** What a backend's words may not tell a client about the backend, and what they say instead. */
export interface BackendIdentity {
  /** The model name the backend was sent (`model`, an Azure deployment...). */
  readonly sentModel: string;
  /** The model name the client asked for, the only one it may see. */
  readonly requestedModel: string;
  /** The Google Cloud project the backend runs in (Vertex). */
  readonly project?: string;
  /** The backend's own URL, whose host the client may not learn. */
  readonly baseUrl?: string;
}

/**
 * The backend account's own identifiers as providers quote them in errors: OpenAI's
 * organization and project ids ("Rate limit reached for ... in organization org-..."),
 * Groq's organization id (org_ and a ULID, in its rate-limit and request-too-large refusals),
 * Anthropic's organization id ("the rate limit for your organization (uuid)"), an AWS
 * account in an ARN (Bedrock's access refusals) and a Google project number (a quota
 * refusal's `project_number:` too).
 */
const ACCOUNT_IDS: readonly RegExp[] = [
  /\b()org-[A-Za-z0-9]{8,}\b/g,
  /\b()org_[A-Za-z0-9]{20,}\b/g,
  /\b()proj_[A-Za-z0-9]{8,}\b/g,
  /(\borganization\W{0,3})[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi,
  /(\barn:aws[\w-]*:[\w-]*:[\w-]*:)\d{12}(?=[:/])/g,
  /(\bprojects?[/= ])\d{6,}\b/g,
  // Google's quota refusals name their consumer so: "for consumer 'project_number:...'".
  /(\bproject_number:)\d{6,}\b/g,
];

// A model name ends where no name character follows (a full stop may end the sentence),
// and starts after none: `models/gemini-pro` and `model: claude-...` still name it.
const NOT_AFTER_NAME = '(?<![\\w.@-])';
const NOT_BEFORE_NAME = '(?![\\w@-]|\\.\\w)';

/**
 * A provider's words as the client may see them: the model the backend ran named as the
 * client named it (with `modelNameOverride`, or on a failover to another model, the client
 * never learns what served it), and the backend's account, project and host left out.
 */
export function textWithoutBackendIdentity(text: string, identity: BackendIdentity): string {
  let hidden = text;
  const { sentModel, requestedModel } = identity;
  if (sentModel !== '' && sentModel !== requestedModel) {
    // A dated snapshot of the model (gpt-4o-mini-2024-07-18) names it as well.
    hidden = hidden.replace(
      new RegExp(
        `${NOT_AFTER_NAME}${escaped(sentModel)}(?:[-@:][\\w.-]*\\w)?${NOT_BEFORE_NAME}`,
        'g',
      ),
      () => requestedModel,
    );
  }
  for (const name of [identity.project, hostOf(identity.baseUrl)]) {
    if (name) hidden = hidden.split(name).join('[REDACTED]');
  }
  for (const pattern of ACCOUNT_IDS) hidden = hidden.replace(pattern, '$1[REDACTED]');
  return hidden;
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hostOf(baseUrl: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  try {
    return new URL(baseUrl).host || undefined;
  } catch {
    return undefined;
  }
}
