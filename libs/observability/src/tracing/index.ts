export * from './tracing';
export * as spanAttributes from './gen-ai-attributes';
