import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import Fastify, {
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { frameworkErrorsTo } from './nest-edge-app';

/** A filter that records what reached it and answers like the API's would. */
function recordingFilter() {
  const seen: { code?: string; url?: string }[] = [];
  const filter: ExceptionFilter = {
    catch(exception: unknown, host: ArgumentsHost) {
      const request = host.switchToHttp().getRequest<FastifyRequest>();
      const reply = host.switchToHttp().getResponse<FastifyReply>();
      seen.push({ code: (exception as { code?: string }).code, url: request.url });
      void reply.code(418).send({ error: { message: 'from the filter' } });
    },
  };
  return { filter, seen };
}

describe("the edge's router refusals", () => {
  it('reach the filter, a failed async constraint and a bad URL alike', async () => {
    const { filter, seen } = recordingFilter();
    // Derived with a callback (an async constraint), failing for /t. Fastify's types
    // describe only strategies derived synchronously.
    const tenant = {
      name: 'tenant',
      storage: () => {
        const handlers = new Map<unknown, unknown>();
        return {
          get: (value: unknown) => handlers.get(value) ?? null,
          set: (value: unknown, handler: unknown) => void handlers.set(value, handler),
        };
      },
      deriveConstraint: (
        request: { url?: string },
        _context: unknown,
        done: (error: Error | null, value?: string) => void,
      ) => (request.url === '/t' ? done(new Error('the tenant lookup failed')) : done(null, 'a')),
      mustMatchWhenDerived: false,
      validate: () => undefined,
    };
    const fastify = Fastify({
      frameworkErrors: frameworkErrorsTo(filter),
      constraints: { tenant } as unknown as FastifyServerOptions['constraints'],
    });
    fastify.get('/t', { constraints: { tenant: 'a' } }, () => 'ok');
    fastify.get('/plain', () => 'ok');
    try {
      for (const url of ['/t', '/plain%ZZ']) {
        const answer = await fastify.inject({ method: 'GET', url });
        assert.equal(answer.statusCode, 418, `${url}: ${answer.body}`);
        assert.deepEqual(answer.json(), { error: { message: 'from the filter' } });
      }
      assert.deepEqual(seen, [
        { code: 'FST_ERR_ASYNC_CONSTRAINT', url: '/t' },
        { code: 'FST_ERR_BAD_URL', url: '/plain%ZZ' },
      ]);
    } finally {
      await fastify.close();
    }
  });
});
