export * from './answer-writer';
export * from './wire-server';
export * from './wire-client';
export * from './router-wire-server';
export * from './provider-wire-server';
export * from './http-router-client';
export * from './http-provider-client';
export * from './backend-targets';
export * from './held-object-wire';
export {
  decodeHeldObjectCall,
  HELD_OBJECT_OPEN_WIRE_PATH,
  HELD_OBJECT_UPLOAD_WIRE_PATH,
  HELD_OBJECT_WIRE_PATH,
  type HeldObjectStreamReply,
  type HeldObjectWireCall,
  type RelayTimeout,
} from './held-object-call';
export { decodeHeldObjectOpen, type HeldStreamCut } from './held-object-open';
export { decodeHeldObjectUpload, heldUploadBytes } from './held-object-upload';
export * from './realtime-wire';
export * from './realtime-hop-settings';
export * from './internal-auth';
