import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResponsesInFlight } from './realtime-responses';

const created = (id?: string) =>
  JSON.stringify({ type: 'response.created', response: id === undefined ? {} : { id } });
const done = (id?: string) =>
  JSON.stringify({ type: 'response.done', response: id === undefined ? {} : { id } });

describe('ResponsesInFlight', () => {
  it('holds a response from its response.created to its response.done', () => {
    const responses = new ResponsesInFlight();
    responses.heard(created('resp_1'));
    responses.heard(created('resp_2'));
    responses.heard(JSON.stringify({ type: 'response.output_text.delta', response_id: 'resp_1' }));
    responses.heard(Buffer.from('binary audio'));
    assert.equal(responses.size, 2);
    responses.heard(done('resp_2'));
    assert.deepEqual(
      responses.cancelFrames().map((frame) => JSON.parse(frame) as object),
      [{ type: 'response.cancel', response_id: 'resp_1' }],
    );
    responses.heard(done('resp_1'));
    assert.equal(responses.size, 0);
    assert.deepEqual(responses.cancelFrames(), []);
  });

  it('ends the oldest response on a response.done naming none it knows, and none when none runs', () => {
    const responses = new ResponsesInFlight();
    responses.heard(done('resp_0'));
    assert.equal(responses.size, 0);
    responses.heard(created('resp_1'));
    responses.heard(created('resp_2'));
    responses.heard(done());
    assert.deepEqual(
      responses.cancelFrames().map((frame) => JSON.parse(frame) as object),
      [{ type: 'response.cancel', response_id: 'resp_2' }],
    );
  });

  it('cancels a response its events never named without naming one', () => {
    const responses = new ResponsesInFlight();
    responses.heard(created());
    assert.deepEqual(
      responses.cancelFrames().map((frame) => JSON.parse(frame) as object),
      [{ type: 'response.cancel' }],
    );
  });

  it('reads an event type spelled with JSON escapes, as the backend would', () => {
    const responses = new ResponsesInFlight();
    responses.heard('{"type":"response\\u002ecreated","response":{"id":"resp_1"}}');
    assert.equal(responses.size, 1);
  });
});
