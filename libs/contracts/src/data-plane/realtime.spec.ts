import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  realtimeErrorEvent,
  realtimeUsage,
  renameRealtimeModel,
  responseDone,
  transcriptionModel,
  transcriptionUsage,
} from './realtime';

/** A GA `response.done` as OpenAI documents it. */
const DONE = {
  type: 'response.done',
  event_id: 'event_9',
  response: {
    id: 'resp_1',
    status: 'completed',
    usage: {
      total_tokens: 1500,
      input_tokens: 1000,
      output_tokens: 500,
      input_token_details: {
        text_tokens: 380,
        audio_tokens: 600,
        image_tokens: 20,
        cached_tokens: 100,
        cached_tokens_details: { text_tokens: 70, audio_tokens: 20, image_tokens: 10 },
      },
      output_token_details: { text_tokens: 100, audio_tokens: 400 },
    },
  },
};

describe('realtimeUsage', () => {
  it('reads input, output, cached, audio and image tokens; cached audio stays with the cache', () => {
    assert.deepEqual(realtimeUsage(DONE), {
      inputTokens: 1000,
      outputTokens: 500,
      cachedInputTokens: 100,
      audioInputTokens: 580,
      imageInputTokens: 10,
      audioOutputTokens: 400,
      source: 'reported',
    });
  });

  it('a text-only response has no audio parts', () => {
    const usage = realtimeUsage({
      type: 'response.done',
      response: { usage: { input_tokens: 10, output_tokens: 5, input_token_details: {} } },
    });
    assert.deepEqual(usage, {
      inputTokens: 10,
      outputTokens: 5,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('no usage (a cancelled response) or junk counts: nothing, or clamped', () => {
    assert.equal(
      realtimeUsage({ type: 'response.done', response: { status: 'cancelled' } }),
      undefined,
    );
    assert.equal(realtimeUsage({ type: 'response.done' }), undefined);
    const junk = realtimeUsage({
      type: 'response.done',
      response: {
        usage: {
          input_tokens: -5,
          output_tokens: '7',
          input_token_details: { cached_tokens: 50, audio_tokens: null },
          output_token_details: { audio_tokens: 99 },
        },
      },
    });
    assert.deepEqual(junk, {
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });
});

describe('responseDone', () => {
  it('finds response.done in a text frame, nothing in others', () => {
    assert.equal(responseDone(JSON.stringify(DONE))?.event_id, 'event_9');
    assert.equal(responseDone(JSON.stringify({ type: 'response.created' })), undefined);
    assert.equal(responseDone('{"type": "response.done"'), undefined, 'garbage is no event');
    assert.equal(responseDone('[1, "response.done"]'), undefined);
    assert.equal(responseDone(Buffer.from(JSON.stringify(DONE))), undefined, 'binary frames');
  });
});

describe('renameRealtimeModel', () => {
  it('names the model in session events', () => {
    const created = JSON.stringify({
      type: 'session.created',
      session: { type: 'realtime', model: 'gpt-realtime', voice: 'marin' },
    });
    assert.deepEqual(JSON.parse(renameRealtimeModel(created, 'voice') as string), {
      type: 'session.created',
      session: { type: 'realtime', model: 'voice', voice: 'marin' },
    });
    const update = JSON.stringify({ type: 'session.update', session: { model: 'anything' } });
    assert.equal(
      (
        JSON.parse(renameRealtimeModel(update, 'gpt-realtime') as string) as {
          session: { model: string };
        }
      ).session.model,
      'gpt-realtime',
    );
  });

  it('names it in a session.update whose type is spelled with JSON escapes', () => {
    // What JSON.parse reads as session.update, and so does the backend.
    const hidden = '{"type":"session\\u002eupdate","session":{"model":"gpt-realtime-pricier"}}';
    const renamed = JSON.parse(renameRealtimeModel(hidden, 'gpt-realtime') as string) as {
      session: { model: string };
    };
    assert.equal(renamed.session.model, 'gpt-realtime');
  });

  it('leaves every other frame byte for byte', () => {
    const frames = [
      '{"type":"response.output_audio.delta","delta":"AAAA/w=="}',
      '{"type":"session.updated","session":{"voice":"x"}}',
      '{"type": "session.updated", "session": {"model": "voice"}}',
      '{"type":"conversation.item.create","item":{"text":"my session. model"}}',
      'not json session.',
      '{"type":"session.update","session":null}',
    ];
    for (const frame of frames) assert.equal(renameRealtimeModel(frame, 'voice'), frame);
    const binary = Buffer.from('session.created');
    assert.equal(renameRealtimeModel(binary, 'voice'), binary);
  });
});

describe('realtimeErrorEvent', () => {
  it('is an error event in the Realtime API shape', () => {
    const event = JSON.parse(
      realtimeErrorEvent('invalid_request_error', 'budget_exceeded', 'spent'),
    ) as {
      type: string;
      error: Record<string, unknown>;
    };
    assert.equal(event.type, 'error');
    assert.deepEqual(event.error, {
      type: 'invalid_request_error',
      code: 'budget_exceeded',
      message: 'spent',
      param: null,
      event_id: null,
    });
  });
});

describe('transcriptionModel', () => {
  const event = (type: string, session: unknown) => JSON.stringify({ type, session });
  it('reads the GA and the beta shape of session.created and session.updated', () => {
    const ga = { audio: { input: { transcription: { model: 'gpt-4o-transcribe' } } } };
    assert.equal(transcriptionModel(event('session.updated', ga)), 'gpt-4o-transcribe');
    const beta = { input_audio_transcription: { model: 'whisper-1' } };
    assert.equal(transcriptionModel(event('session.created', beta)), 'whisper-1');
  });
  it('is null when the session stopped transcribing, undefined when a frame says nothing of it', () => {
    assert.equal(
      transcriptionModel(event('session.updated', { audio: { input: { transcription: null } } })),
      null,
    );
    assert.equal(
      transcriptionModel(event('session.updated', { input_audio_transcription: null })),
      null,
    );
    assert.equal(transcriptionModel(event('session.updated', { instructions: 'x' })), undefined);
    assert.equal(
      transcriptionModel(event('session.update', { input_audio_transcription: { model: 'x' } })),
      undefined,
      'the client asking is not the backend taking it',
    );
    assert.equal(transcriptionModel('{"type":"response.done"}'), undefined);
  });
});

describe('transcriptionUsage', () => {
  const completed = (usage: unknown) =>
    JSON.stringify({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'i',
      transcript: 'hello',
      usage,
    });
  it('reads token usage with its audio part, and whisper-1’s seconds', () => {
    assert.deepEqual(
      transcriptionUsage(
        completed({
          type: 'tokens',
          input_tokens: 200,
          output_tokens: 30,
          total_tokens: 230,
          input_token_details: { text_tokens: 20, audio_tokens: 180 },
        }),
      ),
      {
        inputTokens: 200,
        outputTokens: 30,
        cachedInputTokens: 0,
        audioInputTokens: 180,
        source: 'reported',
      },
    );
    assert.deepEqual(transcriptionUsage(completed({ type: 'duration', seconds: 12.5 })), {
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      audioSeconds: 12.5,
      source: 'reported',
    });
  });
  it('is undefined without usage and for other events', () => {
    assert.equal(transcriptionUsage(completed(undefined)), undefined);
    assert.equal(transcriptionUsage(completed({ type: 'duration', seconds: -1 })), undefined);
    assert.equal(
      transcriptionUsage(
        '{"type":"conversation.item.input_audio_transcription.delta","delta":"x"}',
      ),
      undefined,
    );
  });
});
