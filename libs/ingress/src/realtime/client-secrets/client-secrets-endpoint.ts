import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DataPlaneError,
  modelNotAllowed,
  modelNotServed,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { BudgetAdmission } from '../../admission/budget-admission';
import { buildGatewayRequest } from '../../domain/request-builder';
import { sendOpenAiError, toDataPlaneError } from '../../http/openai-errors';
import type { BoundCaller, IngressPipeline, RedactionReport } from '../../ingress-pipeline';
import { refuseUncheckedAnswers } from '../../redaction/unchecked-answers';
import { chatPromptRules, screenRealtimeEvent } from '../realtime-prompt-rules';
import type { RealtimeObserver } from '../realtime-telemetry';
import { type RealtimeClientSecrets } from './client-secret-grants';
import { parseClientSecretRequest } from './client-secret-request';

/** The path, under each public prefix (PATH_PREFIXES: `/v1`, none, Azure's). */
export const CLIENT_SECRETS_PATH = '/realtime/client_secrets';

/**
 * `POST /v1/realtime/client_secrets`: a short-lived secret a browser opens Realtime sessions
 * with instead of the caller's own credential. The caller is identified, its tier checked
 * and its budgets consulted exactly as a `/v1/realtime?model=` upgrade of the session's
 * model would be, with the same errors; the session configuration goes through the route's
 * prompt rules as a `session.update` would. The answer is OpenAI's:
 * `{value: "ek_…", expires_at, session}`.
 */
export class ClientSecretsEndpoint {
  constructor(
    private readonly pipeline: IngressPipeline,
    private readonly secrets: RealtimeClientSecrets,
    private readonly observer: RealtimeObserver,
    private readonly admission?: BudgetAdmission,
    private readonly redacted?: RedactionReport,
  ) {}

  register(fastify: FastifyInstance, prefix: string): void {
    fastify.post(prefix + CLIENT_SECRETS_PATH, (request, reply) => this.serve(request, reply));
  }

  private async serve(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const fields: Record<string, string | number | undefined> = { requestId: request.id };
    try {
      const asked = parseClientSecretRequest(request.body);
      fields.model = asked.model;
      const bound = await this.pipeline.identityFor(asked.model, request.headers);
      if (!bound) throw modelNotServed(asked.model);
      fields.user = bound.caller.userKey;
      // The router's own tier check, made here: the secret must not reach a model the
      // caller could not.
      const { allowedModels } = bound;
      if (allowedModels.length > 0 && !allowedModels.includes(asked.model)) {
        throw modelNotAllowed(asked.model);
      }
      // A session on a route that checks answers is refused: no secret for one.
      refuseUncheckedAnswers(this.pipeline, asked.model);
      await this.admissible(asked.model, bound, request.id);
      const session = screenedSession(this.pipeline, asked.model, asked.session, this.redacted);
      const { value, grant } = await this.secrets.mint(
        { model: asked.model, caller: bound.caller, allowedModels, session },
        asked.seconds,
        bound.credentialExpiresAt,
      );
      this.observer.clientSecret?.('minted', { ...fields, expiresAt: grant.expiresAt });
      void reply.header('cache-control', 'no-store').send({
        value,
        expires_at: grant.expiresAt,
        session: { ...session, object: 'realtime.session' },
      });
    } catch (error) {
      const refusal = toDataPlaneError(error);
      const storeFailed = refusal.upstreamCode === 'client_secret_store_unavailable';
      this.observer.clientSecret?.(storeFailed ? 'store_failed' : 'refused', {
        ...fields,
        status: refusal.httpStatus,
        code: refusal.code,
      });
      sendOpenAiError(reply, refusal, request.id);
    }
  }

  /**
   * The admission a session of `model` would get now (its hold given back at once): a
   * spent budget is the 429 the upgrade would answer.
   */
  private async admissible(model: string, bound: BoundCaller, requestId: string): Promise<void> {
    if (!this.admission) return;
    const probe = buildGatewayRequest(
      'realtime',
      { model },
      { requestId, caller: bound.caller, allowedModels: bound.allowedModels, forwardHeaders: {} },
    );
    const admission = await this.admission.admit(probe);
    await this.admission.release(admission);
  }
}

/**
 * A session configuration under the route's prompt rules, as a `session.update` of it would
 * be read: refused (a 400 naming the field), or masked where they say.
 */
function screenedSession(
  pipeline: IngressPipeline,
  model: string,
  session: JsonObject,
  redacted?: RedactionReport,
): JsonObject {
  const frame = JSON.stringify({ type: 'session.update', session });
  const screening = screenRealtimeEvent(frame, chatPromptRules(pipeline, model, redacted));
  if (screening.refusal) {
    const { error, param } = screening.refusal;
    throw new DataPlaneError(error.code, error.message, { param });
  }
  if (screening.frame === frame) return session;
  return (JSON.parse(screening.frame as string) as { session: JsonObject }).session;
}
