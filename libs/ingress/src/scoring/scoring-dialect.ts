import type { EdgeDialect } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import { checkedModerationBody } from './moderation-request';
import { checkedRerankBody } from './rerank-request';

/** OpenAI's moderations: JSON in and out, checked first, relayed as it came. */
export const MODERATIONS_DIALECT: EdgeDialect = {
  ...OPENAI_DIALECT,
  canonicalBody: checkedModerationBody,
};

/** Reranks in Cohere's shape: JSON in and out, checked first, errors in OpenAI's format. */
export const RERANK_DIALECT: EdgeDialect = { ...OPENAI_DIALECT, canonicalBody: checkedRerankBody };
