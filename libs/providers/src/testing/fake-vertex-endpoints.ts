import { after, before, beforeEach } from 'node:test';
import type { GatewayRequest, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  fakeServiceAccount,
  FakeGoogleOAuth,
  FakeVertexClaudeUpstream,
  FakeVertexGeminiUpstream,
  upstreamTarget,
  type FakeServiceAccount,
} from '@aigw/testing/fake-provider';
import { VertexAdapter } from '../vertex/vertex.adapter';

/**
 * Fake Vertex AI endpoints (Google's OAuth, Gemini's, Claude's) and a VertexAdapter calling
 * them with a trusted service account, for the `describe` it is called in: started before
 * its cases, their calls forgotten before each, stopped after.
 */
export function useFakeVertexEndpoints(place: { project: string; location: string }) {
  const oauth = new FakeGoogleOAuth();
  const gemini = new FakeVertexGeminiUpstream(oauth);
  const claude = new FakeVertexClaudeUpstream(oauth);
  const adapter = new VertexAdapter();
  let account: FakeServiceAccount | undefined;
  /** The service account the fake OAuth trusts (made once the endpoints started). */
  const serviceAccount = (): FakeServiceAccount => {
    if (!account) throw new Error('the fake Vertex endpoints have not started');
    return account;
  };
  // Far-off timeouts: a loaded machine took past the kit's 500 ms to sign and exchange the
  // first token. The cases about timing out set their own.
  const target = (model: string, baseUrl: string): UpstreamTarget =>
    upstreamTarget(
      {
        provider: 'vertex',
        model,
        baseUrl,
        vertex: place,
        requestTimeoutMs: 20_000,
        firstByteTimeoutMs: 10_000,
      },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: serviceAccount().json },
    );
  const invoke = (request: GatewayRequest, to: UpstreamTarget) =>
    adapter.invoke({ request, target: to, signal: new AbortController().signal });

  before(async () => {
    await Promise.all([oauth.start(), gemini.start(), claude.start()]);
    account = fakeServiceAccount(oauth.tokenUri);
    oauth.trust(account);
  });
  after(() => Promise.all([oauth.stop(), gemini.stop(), claude.stop()]));
  beforeEach(() => {
    gemini.reset();
    claude.reset();
  });
  return { oauth, gemini, claude, target, invoke, serviceAccount };
}
