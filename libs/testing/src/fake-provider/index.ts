export * from './fake-openai-upstream';
