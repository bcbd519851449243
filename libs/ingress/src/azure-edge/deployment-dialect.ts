import type { JsonObject } from '@aigw/contracts/data-plane';
import type { EdgeDialect } from '../http/edge-exchange';
import { MultipartForm } from '../forms/multipart-form';

/**
 * An OpenAI endpoint's dialect for a call made to an Azure deployment: the deployment
 * names the model, whatever the body says (Azure ignores the body's `model`), so the
 * call is routed, budgeted and reported as one to that virtual model at `/v1`.
 */
export function deploymentDialect(dialect: EdgeDialect, deployment: string): EdgeDialect {
  const inner = dialect.canonicalBody;
  return {
    ...dialect,
    canonicalBody: (body, headers) => {
      const named = withModel(body, deployment);
      return inner ? inner(named, headers) : named;
    },
  };
}

/**
 * The body naming `model`: a JSON object's field, or a form's (audio, image edits). Any
 * other body is left as sent, to be refused as it would be at `/v1`.
 */
export function withModel(body: unknown, model: string): unknown {
  if (body instanceof MultipartForm) {
    const fields = body.fields.filter(([name]) => name !== 'model');
    return new MultipartForm([['model', model], ...fields], body.files);
  }
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    return { ...(body as JsonObject), model };
  }
  return body;
}
