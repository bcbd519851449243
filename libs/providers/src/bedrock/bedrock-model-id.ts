// What a Bedrock model id says of the model behind it, in every form a backend may name
// it: a base model (anthropic.claude-sonnet-4-5-20250929-v1:0), a cross-region inference
// profile (us., eu., apac., global. before it), or an ARN (foundation-model/...,
// inference-profile/...). Application inference profiles, provisioned throughput and
// custom or imported models are ARNs whose id does not say which model serves them.
import { bedrockBaseModelId } from '@aigw/config';

/** The model id without a profile's geography or an ARN's resource type (see there). */
export const baseModelId = bedrockBaseModelId;

/** An ARN whose resource is not a foundation model or a system inference profile. */
function hidesItsModel(modelId: string): boolean {
  return modelId.startsWith('arn:') && !/:(?:foundation-model|inference-profile)\//.test(modelId);
}

/**
 * The model families Converse treats apart: Claude and Nova take prompt caching and a
 * forced tool; `unnamed` is an ARN that does not say its model (it may serve either).
 */
export type ConverseFamily = 'claude' | 'nova' | 'other' | 'unnamed';

export function converseFamily(modelId: string): ConverseFamily {
  if (hidesItsModel(modelId)) return 'unnamed';
  const base = baseModelId(modelId);
  if (base.startsWith('anthropic.') || base.includes('claude')) return 'claude';
  if (base.startsWith('amazon.nova')) return 'nova';
  return 'other';
}

/**
 * Whether Converse may be asked to cite a document for the model: Claude cites documents
 * on Bedrock (a DocumentBlock's `citations`), and an ARN that hides its model may be one.
 */
export function citesDocuments(modelId: string): boolean {
  const family = converseFamily(modelId);
  return family === 'claude' || family === 'unnamed';
}
