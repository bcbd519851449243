import {
  realtimeCallAnsweredFrame,
  type RealtimeCall,
  type RealtimeCallOffer,
  type RealtimeConnection,
} from '@aigw/contracts/data-plane';
import {
  createRealtimeCall,
  hangUpRealtimeCall,
  refuseUnservedCallBackend,
  sidebandUrl,
} from './realtime-calls';

/** Opens the backend's socket at a URL for a call (the connector's own). */
export type SocketOpener = (url: string, call: RealtimeCall) => Promise<RealtimeConnection>;

/**
 * A WebRTC call as a Realtime connection: the call is created on the backend with its key,
 * its sideband socket (`?call_id=`) opened, and its answer handed to the listener
 * (realtimeCallAnsweredFrame); the sideband is the connection, whose events
 * (`response.done` with usage) the listener hears as a socket session's. The browser's
 * media goes to the backend directly.
 * Closing the connection hangs the call up (the edge ends it so for a spent budget or a
 * stopping gateway); a call whose sideband could not be opened is hung up too, as nothing
 * would bill it.
 */
export async function connectRealtimeCall(
  call: RealtimeCall,
  offer: RealtimeCallOffer,
  openSocket: SocketOpener,
): Promise<RealtimeConnection> {
  const { target, listener } = call;
  refuseUnservedCallBackend(target);
  const answer = await createRealtimeCall(target, offer, call.signal);
  /** The sideband closed: the call is over, no hang-up is owed. */
  let over = false;
  let hungUp = false;
  const hangUp = async (): Promise<void> => {
    if (over || hungUp) return;
    hungUp = true;
    await hangUpRealtimeCall(target, answer.callId);
  };
  let sideband: RealtimeConnection;
  try {
    sideband = await openSocket(sidebandUrl(target, answer.callId), {
      ...call,
      listener: {
        frame: (frame) => listener.frame(frame),
        closed: (code, reason) => {
          over = true;
          listener.closed(code, reason);
        },
      },
    });
  } catch (error) {
    void hangUp();
    throw error;
  }
  // Only now: a call whose sideband failed is hung up, and the router may fail over to
  // another backend's call, whose answer is then the only one. The sideband's first events
  // may come before it; the edge waits for it, whatever came first.
  listener.frame(realtimeCallAnsweredFrame(answer));
  return {
    servedBy: sideband.servedBy,
    send: (frame) => sideband.send(frame),
    // The sideband stays until the hang-up is through, so the call's last events still count.
    close: (code, reason) => void hangUp().finally(() => sideband.close(code, reason)),
  };
}
