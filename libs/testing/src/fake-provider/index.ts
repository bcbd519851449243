export * from './fake-openai-upstream';
export * from './fake-provider-server';
export * from './fake-azure-openai-upstream';
export * from './provider-test-kit';
export * from './upstream-failure-cases';
export * from './fake-anthropic-upstream';
export * from './fake-gemini-upstream';
export * from './fake-bedrock-upstream';
