/**
 * The base model behind a Bedrock model id: without an ARN's resource type
 * (`arn:...:inference-profile/us.anthropic.claude-...`) and a cross-region inference
 * profile's geography (`us.`, `eu.`, `apac.`, `global.`). Pricing reads it, as the
 * Bedrock adapter does, to see which model a profile or ARN serves.
 */
export function bedrockBaseModelId(modelId: string): string {
  const resource = modelId.slice(modelId.lastIndexOf('/') + 1).toLowerCase();
  return resource.replace(/^[a-z-]+\.(?=[a-z0-9-]+\.)/, '');
}
