import type { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

/**
 * The all-in-one gateway with one Gemini backend, the fake Gemini API `upstream`, serving
 * `model` as `virtualModel` on the backend key AIzaBackendKey.
 */
export function startOnGeminiBackend(
  upstream: Pick<FakeGeminiUpstream, 'baseUrl'>,
  virtualModel: string,
  model: string,
): Promise<AppProcess> {
  return startGatewayWithConfig(
    `kind: AIGatewayRoute
metadata: {name: gemini-backend}
spec:
  backends:
  - name: gemini
    provider: google-gemini
    baseUrl: ${upstream.baseUrl}
    model: ${model}
    modelNameOverride: ${virtualModel}
    auth: {apiKeyRef: {name: gemini-key}}
`,
    { AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaBackendKey' },
  );
}
