/**
 * The base model behind a Bedrock model id: without an ARN's resource type
 * (`arn:...:inference-profile/us.anthropic.claude-...`) and a cross-region inference
 * profile's geography (`us.`, `eu.`, `apac.`, `global.`). Pricing reads it, as the
 * Bedrock adapter does, to see which model a profile or ARN serves.
 */
export function bedrockBaseModelId(modelId: string): string {
  const resource = modelId.slice(modelId.lastIndexOf('/') + 1).toLowerCase();
  return resource.replace(PROFILE_GEOGRAPHY, '');
}

/**
 * The geographies AWS names cross-region inference profiles by. A list, not "any first
 * segment before two more dots": a model's own name may hold a dot (`moonshotai.kimi-k2.5`),
 * and its vendor must stay.
 */
const PROFILE_GEOGRAPHY = /^(?:us|us-gov|eu|apac|jp|au|ca|global)\.(?=[a-z0-9-]+\.)/;
