import type { ServerResponse } from 'node:http';
import type { TurnBatchedWriter } from '@aigw/infra/http';

/** A stream the heartbeats keep alive. */
export interface HeartbeatStream {
  /** Set on each write by the stream, cleared by each tick. */
  wroteSinceBeat: boolean;
  /** Sends the API's keep-alive (an SSE comment, Anthropic's ping event). */
  beat(): void;
}

/**
 * Keeps quiet event streams alive through the proxies in front of a gateway, which close
 * a connection that carried nothing for a while (60 s behind an AWS load balancer or
 * nginx, by default), while a reasoning model thinks or a slow one waits between tokens:
 * a stream that wrote nothing since the last tick gets a heartbeat at this one. One timer
 * for every stream, running only while there are streams; a write costs setting a flag.
 */
export class StreamHeartbeats {
  private readonly streams = new Set<HeartbeatStream>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs: number) {}

  get size(): number {
    return this.streams.size;
  }

  add(stream: HeartbeatStream): void {
    this.streams.add(stream);
    if (!this.timer) {
      this.timer = setInterval(this.tick, this.everyMs);
      this.timer.unref();
    }
  }

  remove(stream: HeartbeatStream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private readonly tick = (): void => {
    for (const stream of this.streams) {
      if (stream.wroteSinceBeat) stream.wroteSinceBeat = false;
      else stream.beat();
    }
  };
}

/** The edge's event streams: one quiet for 15-30 s gets a heartbeat. */
export const EDGE_HEARTBEATS = new StreamHeartbeats(15_000);

/** One response's membership in the heartbeats, from its start until it closes. */
export class KeptAlive implements HeartbeatStream {
  wroteSinceBeat = true;

  constructor(
    private readonly response: ServerResponse,
    private readonly out: TurnBatchedWriter,
    /** What a heartbeat writes, in the stream's own framing. */
    private readonly heartbeat: string,
    private readonly heartbeats: StreamHeartbeats = EDGE_HEARTBEATS,
  ) {}

  /** Joins the heartbeats; the response's close (an end, or the client leaving) leaves them. */
  start(): void {
    this.heartbeats.add(this);
    this.response.once('close', () => this.heartbeats.remove(this));
  }

  beat(): void {
    if (this.response.writableEnded || this.response.destroyed) return;
    // A heartbeat the socket cannot take now is simply late: nothing waits for it.
    void this.out.write(this.heartbeat);
  }
}
