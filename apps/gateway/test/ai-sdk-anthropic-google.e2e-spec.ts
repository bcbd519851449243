// The Vercel AI SDK's Anthropic provider pointed at the gateway's /v1/messages, and its
// Google provider at /v1beta.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { describeAiSdkCases } from './ai-sdk-cases';
import { frameworkGatewayForThisFile } from './framework-gateway';

const started = frameworkGatewayForThisFile();

describeAiSdkCases('AI SDK @ai-sdk/anthropic: the Messages API', started, (baseUrl, model, user) =>
  createAnthropic({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', headers: { 'x-user-id': user } })(
    model,
  ),
);
describeAiSdkCases('AI SDK @ai-sdk/google: the Gemini API', started, (baseUrl, model, user) =>
  createGoogleGenerativeAI({
    baseURL: `${baseUrl}/v1beta`,
    apiKey: 'unused',
    headers: { 'x-user-id': user },
  })(model),
);
