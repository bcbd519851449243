export * from './answer-writer';
export * from './wire-server';
export * from './wire-client';
export * from './router-wire-server';
export * from './provider-wire-server';
export * from './http-router-client';
export { routerCallBoundMs } from './router-call-bound';
export * from './http-provider-client';
export * from './backend-targets';
export * from './held-object-wire';
export {
  HttpGeminiFileClient,
  registerGeminiFileRelay,
  registerGeminiFileServer,
  type GeminiFileBackendCalls,
} from './gemini-file-wire';
// The held-object wire's own decoders and paths stay inside: only what its apps wire up.
export type { HeldObjectStreamReply, HeldObjectWireCall, RelayTimeout } from './held-object-call';
export type { HeldStreamCut } from './held-object-open';
export { heldUploadBytes } from './held-object-upload';
export * from './realtime-wire';
export * from './realtime-hop-settings';
export * from './internal-auth';
