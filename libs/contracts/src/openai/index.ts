export * from './openai-usage';
export * from './openai-validators';
export * from './chat-completions.dto';
export * from './completions.dto';
export * from './embeddings.dto';
export * from './models.dto';
export * from './openai-error';
export * from './validate-openai-request';
