import type { FastifyInstance } from 'fastify';
import type { EdgeCall, EdgeDialect, EdgeExchange } from '../http/edge-exchange';
import { DEPLOYMENT_ENDPOINTS, deploymentRoute } from './azure-paths';
import { deploymentDialect } from './deployment-dialect';

/**
 * Azure OpenAI's deployment paths (`POST /openai/deployments/{deployment}/chat/completions`
 * and the rest of DEPLOYMENT_ENDPOINTS) as the OpenAI endpoints they stand for: the same
 * call (endpoint, operation: its metrics, prompt rules, budgets, routing, billing) and
 * dialect (OpenAI's answers and errors), the deployment the requested model. The `/openai/v1`
 * and `/openai` prefixes are PATH_PREFIXES, registered with every other path.
 */
export function registerAzureDeploymentRoutes(
  fastify: FastifyInstance,
  exchange: EdgeExchange,
  routes: readonly (readonly [call: EdgeCall, dialect: EdgeDialect])[],
): void {
  for (const [path, endpoint] of DEPLOYMENT_ENDPOINTS) {
    const route = routes.find(([call]) => call.endpoint === endpoint);
    if (!route) throw new Error(`no edge route serves ${endpoint} for Azure deployments`);
    const [call, dialect] = route;
    fastify.post(deploymentRoute(path), (request, reply) => {
      const { deployment } = request.params as { deployment: string };
      return exchange.serve(call, request, reply, deploymentDialect(dialect, deployment));
    });
  }
}
