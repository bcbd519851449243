import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { requestBodyDecoder } from './request-body-decoding';

/** The decoded bytes of a gzip body of `size` bytes, or the error that stopped them. */
async function decode(size: number, maxBodyBytes: number, routeLimit?: number) {
  const request = {
    headers: { 'content-encoding': 'gzip' },
    routeOptions: { bodyLimit: routeLimit },
  } as unknown as FastifyRequest;
  const payload = Readable.from([gzipSync(Buffer.alloc(size, 'a'))]);
  const body = await new Promise<Readable>((resolve, reject) =>
    requestBodyDecoder(maxBodyBytes).call(
      undefined as never,
      request,
      {} as FastifyReply,
      payload as never,
      (error, decoded) => (error ? reject(error) : resolve(decoded as unknown as Readable)),
    ),
  );
  let bytes = 0;
  try {
    for await (const chunk of body) bytes += (chunk as Buffer).length;
  } catch (error) {
    return error;
  }
  return bytes;
}

describe('requestBodyDecoder', () => {
  it('holds the decoded bytes to the body limit', async () => {
    assert.equal(await decode(10_000, 20_000), 10_000);
    const refused = await decode(50_000, 20_000);
    assert.ok(refused instanceof DataPlaneError, String(refused));
    assert.equal(refused.code, DataPlaneErrorCode.BodyTooLarge);
  });

  it("holds them to the route's own limit where it has one (file uploads)", async () => {
    assert.equal(await decode(50_000, 20_000, 100_000), 50_000);
    const refused = await decode(50_000, 200_000, 20_000);
    assert.ok(refused instanceof DataPlaneError, String(refused));
    assert.equal(refused.code, DataPlaneErrorCode.BodyTooLarge);
  });
});
