import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { FastifyReply } from 'fastify';
import { WIRE_VERSION, WIRE_VERSION_HEADER } from '@aigw/contracts/data-plane';
import { createWireServer } from './wire-server';

describe('createWireServer', () => {
  it('names an unknown wire route by its path alone, never its query', async () => {
    const { fastify } = createWireServer({ maxBodyBytes: 1024 });
    try {
      const response = await fastify.inject({
        method: 'GET',
        url: '/wire/nothing?key=secret-key-value',
        headers: { [WIRE_VERSION_HEADER]: WIRE_VERSION },
      });
      assert.equal(response.statusCode, 404);
      assert.match(response.body, /no wire route GET \/wire\/nothing/);
      assert.ok(!response.body.includes('secret-key-value'), response.body);
    } finally {
      await fastify.close();
    }
  });

  // A peer's pool reuses its connections: one answering when this service starts to drain
  // (a rollout, a scale-down) must tell the peer to reconnect elsewhere, and a call already
  // sent on it must be served in the wire format, not refused with Fastify's own 503, which
  // carries no wire version: the peer took it for a version mismatch and failed the call.
  it('while draining, ends keep-alive on the answers in flight and serves the calls already sent', async () => {
    const { fastify, served } = createWireServer({ maxBodyBytes: 1024 });
    let started = () => {};
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const answer = (ok: string) => (_request: unknown, reply: FastifyReply) =>
      reply.header(WIRE_VERSION_HEADER, WIRE_VERSION).send({ ok });
    fastify.post('/wire/slow', async (request, reply) => {
      started();
      await released;
      return answer('slow')(request, reply);
    });
    fastify.post('/wire/fast', async (request, reply) => answer('fast')(request, reply));
    const port = await served.listen(0, '127.0.0.1');
    const call = (path: string) =>
      `POST ${path} HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n` +
      `${WIRE_VERSION_HEADER}: ${WIRE_VERSION}\r\ncontent-type: application/json\r\n` +
      'content-length: 2\r\n\r\n{}';
    const socket = connect(port, '127.0.0.1');
    let heard = '';
    socket.on('data', (chunk: Buffer) => (heard += chunk.toString()));
    const hungUp = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    try {
      socket.write(call('/wire/slow'));
      await inFlight;
      const closed = served.close();
      socket.write(call('/wire/fast'));
      // The second call has been read before the first answer goes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      await hungUp;
      const hungUpAt = Date.now();
      await closed;
      // Closed once the answers ended, not after the 65 s keep-alive of an idle connection.
      assert.ok(Date.now() - hungUpAt < 2_000, 'the close waited on an idle connection');
      const heads = heard.split('HTTP/1.1 ').slice(1);
      assert.equal(heads.length, 2, heard);
      assert.match(heads[0], /^200 [\s\S]*\{"ok":"slow"\}$/);
      assert.match(heads[1], /^200 [\s\S]*\{"ok":"fast"\}$/);
      for (const head of heads) {
        assert.match(head, new RegExp(`\\r\\n${WIRE_VERSION_HEADER}: ${WIRE_VERSION}\\r\\n`, 'i'));
      }
      assert.match(heads[1], /\r\nconnection: close\r\n/i, 'the peer reconnects elsewhere');
    } finally {
      release();
      socket.destroy();
      await served.close();
    }
  });

  it('tells a peer whose call is in flight when the drain starts to reconnect', async () => {
    const { fastify, served } = createWireServer({ maxBodyBytes: 1024 });
    let started = () => {};
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    fastify.post('/wire/slow', async (_request, reply) => {
      started();
      await released;
      return reply.header(WIRE_VERSION_HEADER, WIRE_VERSION).send({ ok: 'slow' });
    });
    const port = await served.listen(0, '127.0.0.1');
    const socket = connect(port, '127.0.0.1');
    let heard = '';
    socket.on('data', (chunk: Buffer) => (heard += chunk.toString()));
    const hungUp = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    try {
      socket.write(
        `POST /wire/slow HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n` +
          `${WIRE_VERSION_HEADER}: ${WIRE_VERSION}\r\ncontent-type: application/json\r\n` +
          'content-length: 2\r\n\r\n{}',
      );
      await inFlight;
      const closed = served.close();
      release();
      await closed;
      await hungUp;
      assert.match(
        heard,
        /^HTTP\/1\.1 200 [\s\S]*\r\nconnection: close\r\n[\s\S]*\{"ok":"slow"\}$/i,
      );
    } finally {
      release();
      socket.destroy();
      await served.close();
    }
  });
});
