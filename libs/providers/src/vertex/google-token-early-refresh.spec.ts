import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { FakeGoogleOAuth } from '@aigw/testing/fake-provider';
import { until } from '@aigw/testing';
import {
  GoogleAccessTokens,
  REFRESH_MARGIN_MS,
  type TokenRefreshEvent,
} from './google-access-token';

/**
 * A token is refreshed REFRESH_MARGIN_MS before it expires. Until it expires a failed
 * or slow refresh must not fail the calls: the cached token is still good.
 */
describe('Google access tokens: the early refresh', () => {
  const oauth = new FakeGoogleOAuth();
  before(() => oauth.start());
  after(() => oauth.stop());
  beforeEach(() => oauth.reset());

  const LIFETIME_MS = 3600_000;
  const IN_MARGIN = LIFETIME_MS - REFRESH_MARGIN_MS + 1_000;

  function tokenSource() {
    let now = Date.now();
    const events: TokenRefreshEvent[] = [];
    const tokens = new GoogleAccessTokens({
      metadataHost: oauth.host,
      now: () => now,
      onRefresh: (event) => events.push(event),
    });
    return {
      tokens,
      events,
      advance: (ms: number) => (now += ms),
      token: () => tokens.accessToken('vertex-a', undefined),
    };
  }

  it('keeps serving the still-valid token when the refresh is refused, and counts the failure', async () => {
    const source = tokenSource();
    const first = await source.token();
    source.advance(IN_MARGIN);
    oauth.failWith = 503;
    assert.equal(await source.token(), first, 'the cached token has minutes left');
    await until('the refresh failed', () => source.events.length === 2);
    assert.deepEqual(
      source.events.map((e) => e.result),
      ['ok', 'failed'],
    );
    assert.equal(await source.token(), first);
  });

  it('does not make calls wait for a slow refresh', async () => {
    const source = tokenSource();
    const first = await source.token();
    source.advance(IN_MARGIN);
    oauth.delayMs = 300;
    const served = await Promise.all(Array.from({ length: 10 }, () => source.token()));
    assert.deepEqual(new Set(served), new Set([first]));
    assert.equal(oauth.metadataRequests, 1, 'answered before the refresh was');
    await until('the refresh landed', () => source.events.length === 2);
    const second = await source.token();
    assert.notEqual(second, first, 'the refreshed token is served next');
    assert.ok(oauth.authorizes(`Bearer ${second}`));
    assert.equal(oauth.metadataRequests, 2, 'one refresh for all the calls in the margin');
  });

  it('after a failed refresh waits before the next one instead of one per call', async () => {
    const source = tokenSource();
    await source.token();
    source.advance(IN_MARGIN);
    oauth.failWith = 500;
    await source.token();
    await until('the refresh failed', () => source.events.length === 2);
    for (let i = 0; i < 20; i++) await source.token();
    assert.equal(oauth.metadataRequests, 2, 'no new refresh within the backoff');
    source.advance(60_000);
    oauth.failWith = undefined;
    await source.token();
    await until('tried again after the backoff', () => source.events.length === 3);
    assert.equal(source.events[2]?.result, 'ok');
  });

  it('fails the call once the token has expired and no fresh one can be minted', async () => {
    const source = tokenSource();
    await source.token();
    oauth.failWith = 500;
    source.advance(LIFETIME_MS);
    await assert.rejects(source.token(), /refused the token request with 500/);
    oauth.failWith = undefined;
    assert.ok(oauth.authorizes(`Bearer ${await source.token()}`), 'the next call mints again');
  });
});

describe('Google access tokens: a token minted with less than the margin left', () => {
  const oauth = new FakeGoogleOAuth();
  before(() => oauth.start());
  after(() => oauth.stop());
  beforeEach(() => oauth.reset());

  it('is used for half its life before it is refreshed, not refreshed by every call', async () => {
    // A metadata server hands out its cached token until shortly before it expires.
    oauth.expiresIn = 120;
    let now = Date.now();
    // Counts the token requests as they are sent: a refresh starts within the call that
    // wants it, so none counted after the calls is none started, with no wait.
    let sent = 0;
    const agent = new Agent();
    after(() => agent.close());
    const counting = agent.compose((dispatch) => (options, handler) => {
      sent++;
      return dispatch(options, handler);
    });
    const tokens = new GoogleAccessTokens({
      metadataHost: oauth.host,
      now: () => now,
      dispatcher: counting,
    });
    const first = await tokens.accessToken('vertex-a', undefined);
    now += 30_000;
    assert.equal(await tokens.accessToken('vertex-a', undefined), first);
    assert.equal(await tokens.accessToken('vertex-a', undefined), first);
    assert.equal(sent, 1, 'no refresh in its first half');
    now += 31_000;
    assert.equal(await tokens.accessToken('vertex-a', undefined), first, 'still valid');
    await until('refreshed past half its life', () => oauth.metadataRequests === 2);
  });
});
