import {
  DataPlaneError,
  DataPlaneErrorCode,
  decodeInvokeRequest,
  type WireTarget,
} from '@aigw/contracts/data-plane';
import {
  DEFAULT_UPSTREAM_CONNECTIONS,
  GeminiFilesUpstream,
  heldObjectCallAllowed,
  HeldObjectUpstream,
  meteredProviders,
} from '@aigw/providers';
import {
  configUsagePricing,
  positiveInteger,
  createWireServer,
  heldUploadBytes,
  internalTokenFrom,
  registerGeminiFileServer,
  registerHeldObjectServer,
  registerProviderWire,
  serveRealtimeWire,
  ServiceRuntime,
  upstreamTargetFor,
  type Env,
  wireAuthFor,
  type RunningService,
} from '@aigw/runtime';

/**
 * The provider-adapter service: every adapter behind the wire format. It injects the
 * credentials from its own configuration and meters every call (usage events, token and
 * cost metrics), exactly as the all-in-one gateway does in-process.
 */
export async function bootstrapProviderAdapter(env: Env): Promise<RunningService> {
  // Its wire routes add the backends' keys: with a token set, only its peers may call them.
  const internalToken = internalTokenFrom(env);
  const runtime = await ServiceRuntime.open(env, { app: 'provider-adapter' });
  const { config, events, metrics, logger } = runtime;
  try {
    const providers = meteredProviders({
      events,
      metrics,
      pricing: configUsagePricing(config, metrics),
      connections: positiveInteger(
        env,
        'AI_GATEWAY_UPSTREAM_CONNECTIONS',
        DEFAULT_UPSTREAM_CONNECTIONS,
      ),
    });
    const auth = wireAuthFor(internalToken, 'provider-adapter', runtime);
    const { fastify, served } = createWireServer({
      maxBodyBytes: runtime.settings.maxBodyBytes,
      onUnexpected: (error) => logger.error('unhandled wire request error', { error }),
      auth,
    });
    // A stop's drain ends the calls still running at its deadline (a long stream) with an
    // error the router passes on, before the pod's grace period runs out.
    // The backend a router names, from this config; one only an edit waiting for its key
    // has (the router took that edit) is refused as missing its key.
    const targetFor = (target: WireTarget) =>
      upstreamTargetFor(config(), target, runtime.configWaitingForKeys());
    registerProviderWire(fastify, runtime.drainBoundedProviders(providers), targetFor);
    // Realtime sessions: the key added here, each response.done metered here.
    const realtimeHops = serveRealtimeWire(
      fastify.server,
      (message, listener, signal) => {
        const { request, target } = decodeInvokeRequest(message);
        return providers.connectRealtime({
          request,
          target: targetFor(target),
          listener,
          signal,
        });
      },
      auth,
    );
    // The server's close waits for upgraded sockets: end the sessions first.
    fastify.addHook('preClose', (done) => {
      realtimeHops.close();
      done();
    });
    // Files and batches: the ingress keeps ids and owners; the call is made here, with the key.
    registerHeldObjectServer(
      fastify,
      (call) => {
        if (!heldObjectCallAllowed(call.provider, call.path)) {
          throw new DataPlaneError(
            DataPlaneErrorCode.InvalidRequest,
            `files and batches go to OpenAI or Azure OpenAI backends, message batches to Anthropic ones: not this call to ${call.provider}`,
          );
        }
        return targetFor({ ...call, model: '' });
      },
      new HeldObjectUpstream(env),
      // The router (and its client) sees only a cut connection: the cause is told here.
      (error) => logger.warn('a file content stream failed after its first bytes', { error }),
      // An upload streams through: the file limit, not the wire body limit.
      heldUploadBytes(runtime.settings.maxFileBytes),
    );
    // Gemini's Files API: the ingress keeps names, owners and upload tokens; the call is
    // made here, with the Gemini backend's key.
    registerGeminiFileServer(
      fastify,
      (call) => targetFor({ ...call, model: '' }),
      new GeminiFilesUpstream(),
      heldUploadBytes(runtime.settings.maxFileBytes),
    );
    return await runtime.serve(served);
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
