// The Vercel AI SDK's OpenAI provider pointed at the gateway: its Responses default
// (`openai(model)`) and Chat Completions (`openai.chat(model)`).
import { createOpenAI } from '@ai-sdk/openai';
import { describeAiSdkCases } from './ai-sdk-cases';
import { frameworkGatewayForThisFile } from './framework-gateway';

const started = frameworkGatewayForThisFile();

const provider = (baseUrl: string, user: string) =>
  createOpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', headers: { 'x-user-id': user } });

describeAiSdkCases('AI SDK openai(model): the Responses API', started, (baseUrl, model, user) =>
  provider(baseUrl, user)(model),
);
describeAiSdkCases('AI SDK openai.chat(model): Chat Completions', started, (baseUrl, model, user) =>
  provider(baseUrl, user).chat(model),
);
