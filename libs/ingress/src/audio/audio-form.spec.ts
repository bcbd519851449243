import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { audioRequestParts } from './audio-form';
import { MultipartForm, type FormFile } from '../forms/multipart-form';

const FILE: FormFile = {
  field: 'file',
  filename: 'a.wav',
  contentType: 'audio/wav',
  data: new Uint8Array([1, 2, 3]),
};

const form = (fields: [string, string][], files: FormFile[] = [FILE]) =>
  new MultipartForm([['model', 'whisper-1'], ...fields], files);

function refusedFor(param: string, value: unknown): void {
  assert.throws(
    () => audioRequestParts(value),
    (error: unknown) =>
      error instanceof DataPlaneError && error.httpStatus === 400 && error.param === param,
    param,
  );
}

describe('audioRequestParts', () => {
  it('keeps every field as sent, repeats as a list, and takes the file apart', () => {
    const parts = audioRequestParts(
      form([
        ['prompt', 'names: Zoë'],
        ['response_format', 'verbose_json'],
        ['temperature', '0.3'],
        ['timestamp_granularities[]', 'word'],
        ['timestamp_granularities[]', 'segment'],
        ['chunking_strategy[type]', 'auto'],
        ['stream', 'false'],
      ]),
    );
    assert.deepEqual(parts.body, {
      model: 'whisper-1',
      prompt: 'names: Zoë',
      response_format: 'verbose_json',
      temperature: '0.3',
      'timestamp_granularities[]': ['word', 'segment'],
      'chunking_strategy[type]': 'auto',
    });
    assert.deepEqual(parts.uploads, [FILE]);
    assert.equal(audioRequestParts(form([['stream', 'true']])).body.stream, true);
  });

  it('refuses what OpenAI refuses, naming the field', () => {
    refusedFor('file', { model: 'whisper-1', file: 'a.wav' }); // JSON, not a form
    refusedFor('model', new MultipartForm([], [FILE]));
    refusedFor('model', form([['model', 'again']]));
    refusedFor('file', form([], []));
    refusedFor('file', form([], [FILE, FILE]));
    refusedFor('file', form([], [{ ...FILE, field: 'audio' }]));
    refusedFor('file', form([], [{ ...FILE, data: new Uint8Array() }]));
    refusedFor('response_format', form([['response_format', 'mp3']]));
    for (const bad of ['', 'warm', '1.5', '-0.1']) {
      refusedFor('temperature', form([['temperature', bad]]));
    }
    refusedFor('timestamp_granularities', form([['timestamp_granularities[]', 'word']]));
    refusedFor(
      'timestamp_granularities',
      form([
        ['response_format', 'verbose_json'],
        ['timestamp_granularities[]', 'sentence'],
      ]),
    );
    refusedFor('stream', form([['stream', 'yes']]));
  });
});
