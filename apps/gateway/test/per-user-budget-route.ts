/**
 * The YAML of one route on the local gpt-4o-mini backend, users told apart by x-user-id,
 * each with `limit` tokens per 30 days: the budgeted route of the outage specs.
 */
export const perUserBudgetRoute = (name: string, limit: number): string =>
  `kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${limit}, period: 30d}
`;
