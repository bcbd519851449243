import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type RealtimeCall,
  type RealtimeConnection,
} from '@aigw/contracts/data-plane';
import { RealtimeRouting } from './realtime-routing';
import { realtimeSession } from './testing/scripted-providers';

// A Realtime session refused by its backend is refused to the client as a chat call is:
// naming the model the client asked for, not the deployment or the backend's account.
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: east, priority: 0, provider: azure, baseUrl: "https://acme-east.openai.azure.com", model: rt-east-deployment, modelNameOverride: voice}
`);

describe('a refused Realtime connect', () => {
  it("names the client's model, not the deployment, the organization or the host", async () => {
    const routing = new RealtimeRouting({
      config: () => CONFIG,
      providers: {
        connectRealtime: (call: RealtimeCall): Promise<RealtimeConnection> =>
          Promise.reject(
            new DataPlaneError(
              DataPlaneErrorCode.UpstreamRejected,
              `backend "east" answered 400: ${call.target.model} at acme-east.openai.azure.com ` +
                'in organization org-AbCdEf0123456789xyzXYZ12 takes no such session',
              { upstreamStatus: 400 },
            ),
          ),
      },
    });
    const listener = { frame: () => undefined, closed: () => undefined };
    await assert.rejects(
      routing.connectRealtime(realtimeSession(), listener, new AbortController().signal),
      (error) => {
        assert.ok(error instanceof DataPlaneError);
        assert.equal(
          error.message,
          'backend "east" answered 400: voice at [REDACTED] in organization [REDACTED] ' +
            'takes no such session',
        );
        return true;
      },
    );
  });
});
