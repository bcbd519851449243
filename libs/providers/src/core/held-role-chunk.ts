import type { JsonObject } from '@aigw/contracts/data-plane';
import type { ChunkFactory } from './openai-output';

/**
 * A stream's opening role chunk, held back from the backend's message start until the
 * first chunk that carries something: an error the backend sends right after its start
 * then comes before any chunk went out, while the router may still fail over on the
 * error's own meaning rather than end the client's stream.
 */
export class HeldRoleChunk {
  private held = false;
  private sent = false;

  constructor(private readonly chunks: ChunkFactory) {}

  /** Whether any chunk went out: from then on the client has part of the answer. */
  get chunkSent(): boolean {
    return this.sent;
  }

  /** The backend's message started: its role chunk waits, unless chunks already went out. */
  hold(): void {
    if (!this.sent) this.held = true;
  }

  /**
   * `chunks` as they go out: the held role chunk first when they carry something, or when
   * `opensAnswer` (an event showing the model answering that sends nothing yet).
   */
  release(chunks: JsonObject[], opensAnswer = false): JsonObject[] {
    const out =
      this.held && (chunks.length > 0 || opensAnswer) ? [this.chunks.role(), ...chunks] : chunks;
    if (out !== chunks) this.held = false;
    if (out.length > 0) this.sent = true;
    return out;
  }
}
