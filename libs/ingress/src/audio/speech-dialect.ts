import type { ServerResponse } from 'node:http';
import type { DataPlaneError, JsonObject } from '@aigw/contracts/data-plane';
import { TurnBatchedWriter } from '@aigw/infra/http';
import type { EdgeDialect, StreamRelay } from '../http/edge-exchange';
import { sendOpenAiError } from '../http/openai-errors';
import { selfEndingEventRelay } from '../http/self-ending-event-relay';
import { checkedSpeechBody } from './speech-request';

/**
 * OpenAI's text to speech: JSON in, the backend's audio bytes out as they arrive, with
 * the backend's content type. The data plane carries the audio as stream events of base64
 * (`speech.audio.chunk`), so it fails over until its first bytes as any stream does. With
 * `stream_format: "sse"` the backend's events (`speech.audio.delta`, `speech.audio.done`)
 * go out as server-sent events instead.
 */
export const SPEECH_DIALECT: EdgeDialect = {
  canonicalBody: checkedSpeechBody,
  answerBody: (answer) => answer.body,
  openStream: (response, headers, request) =>
    request.body.stream_format === 'sse'
      ? selfEndingEventRelay(response, headers)
      : new AudioRelay(response, headers),
  sendError: sendOpenAiError,
};

class AudioRelay implements StreamRelay {
  private readonly out: TurnBatchedWriter;
  private started = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly headers: Record<string, string>,
  ) {
    this.out = new TurnBatchedWriter(response);
  }

  async event(chunk: JsonObject): Promise<void> {
    // The status goes with the first bytes, whose event names the content type.
    this.start(typeof chunk.content_type === 'string' ? chunk.content_type : undefined);
    if (typeof chunk.audio === 'string' && chunk.audio !== '') {
      await this.out.write(Buffer.from(chunk.audio, 'base64'));
    }
  }

  async end(): Promise<void> {
    this.start(undefined);
    this.out.end('');
  }

  /**
   * Before any byte: the error as OpenAI sends it. After: audio has no error event, so
   * the response is cut off, which a client reads as a failed download, never a whole one.
   */
  fail(error: DataPlaneError): void {
    if (!this.started) {
      this.started = true;
      this.response.writeHead(error.httpStatus, {
        ...this.headers,
        'content-type': 'application/json',
      });
      this.response.end(JSON.stringify(error.toOpenAiBody()));
      return;
    }
    this.response.destroy();
  }

  private start(contentType: string | undefined): void {
    if (this.started) return;
    this.started = true;
    this.out.writeHead(200, {
      ...this.headers,
      'content-type': contentType ?? 'application/octet-stream',
    });
  }
}
