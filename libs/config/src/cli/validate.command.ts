// `ai-gateway validate FILE`: loads a config exactly as the gateway would, without
// starting anything, and says what it understood.
import { virtualModels } from '../domain/model-resolution';
import { SECRETS_DIR_ENV } from '../secrets/secret-resolver';
import { loadGatewayConfigFile } from '../loader/load-config';
import { type MissingSecretPolicy } from '../loader/load-options';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export async function validateCommand(
  file: string,
  missingSecrets: MissingSecretPolicy,
  io: CliIo,
): Promise<number> {
  const result = await loadGatewayConfigFile(file, {
    env: io.env,
    missingSecrets,
    ...(io.env[SECRETS_DIR_ENV] ? { secretsDir: io.env[SECRETS_DIR_ENV] } : {}),
  });
  if (!result.ok) {
    for (const issue of result.errors) io.err(`error: ${issue.format()}`);
    io.err(`INVALID: ${result.errors.length} error${result.errors.length === 1 ? '' : 's'}`);
    return 1;
  }
  for (const note of result.notes) io.out(`note: ${note}`);
  for (const note of result.inferences) io.out(`inferred: ${note}`);
  for (const warning of result.warnings) io.out(`warning: ${warning}`);
  const { config } = result;
  const routes = config.routes.map((r) => r.name).join(', ') || '(none)';
  const wildcard = config.routes.some((r) => r.backends.some((b) => b.virtualModel === undefined));
  const models =
    [...virtualModels(config), ...(wildcard ? ['* (any model)'] : [])].join(', ') || '(none)';
  const skipped = result.skippedDocuments > 0 ? ` (${result.skippedDocuments} skipped)` : '';
  const docs = `${config.documentCount} document${config.documentCount === 1 ? '' : 's'}${skipped}`;
  io.out(`OK: ${docs}, routes: ${routes}, virtual models: ${models}`);
  return 0;
}
