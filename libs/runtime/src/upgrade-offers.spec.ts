import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { webSocketUpgradesOnly } from './upgrade-offers';

const offering = (upgrade?: string) => ({ headers: { upgrade } }) as unknown as IncomingMessage;

describe('webSocketUpgradesOnly', () => {
  const listened = webSocketUpgradesOnly(() => 1);

  it('takes up a WebSocket upgrade, however it is spelled or listed', () => {
    assert.equal(listened(offering('websocket')), true);
    assert.equal(listened(offering('WebSocket')), true);
    assert.equal(listened(offering('h2c, websocket')), true);
  });

  it('serves any other offer as the HTTP/1.1 request it is', () => {
    assert.equal(listened(offering('h2c')), false);
    assert.equal(listened(offering('HTTP/2.0')), false);
    assert.equal(listened(offering('websocketx')), false);
    assert.equal(listened(offering(undefined)), false);
  });

  it('takes up no upgrade where nothing listens for one', () => {
    assert.equal(webSocketUpgradesOnly(() => 0)(offering('websocket')), false);
  });
});
