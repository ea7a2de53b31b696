import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Post, Req, HttpCode, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { EnableRedisHttpSession } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { sessionIdOf } from '../http/fixture-app.js';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';

type FastifySessionLike = Record<string, unknown> & {
  sessionId: string;
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  regenerate(): Promise<void>;
  destroy(): Promise<void>;
};
type RequestWithSession = { session: FastifySessionLike };

@Controller()
class VisitsController {
  @Post('visit')
  @HttpCode(200)
  visit(@Req() request: RequestWithSession) {
    request.session.visits = ((request.session.visits as number | undefined) ?? 0) + 1; // express-session style
    request.session.set('last', 'visit'); // @fastify/session style
    return { visits: request.session.get('visits'), sessionId: request.session.sessionId };
  }

  @Get('state')
  state(@Req() request: RequestWithSession) {
    return { visits: request.session.visits ?? null, last: request.session.get('last') ?? null };
  }

  @Post('regenerate')
  @HttpCode(200)
  async regenerate(@Req() request: RequestWithSession) {
    const before = request.session.sessionId;
    await request.session.regenerate(); // a promise without a callback, as @fastify/session
    request.session.fresh = true;
    return { before, after: request.session.sessionId };
  }
}

@Module({
  imports: [EnableRedisHttpSession.forRoot({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('fastify-api'), expressSessionApi: true })],
  controllers: [VisitsController],
})
class FastifyApiModule {}

describe('request.session on Fastify (expressSessionApi)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(FastifyApiModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(() => app?.close());

  it('gives properties and get/set over the same session, with sessionId, regenerate() as a promise', async () => {
    const user = new CookieClient(url);
    const first = await user.post('/visit');
    expect(first.body).toEqual({ visits: 1, sessionId: sessionIdOf(user.cookies.get('SESSION')!) });
    expect((await user.post('/visit')).body.visits).toBe(2);
    expect((await user.get('/state')).body).toEqual({ visits: 2, last: 'visit' });

    const { before, after } = (await user.post('/regenerate')).body;
    expect(after).not.toBe(before);
    expect(sessionIdOf(user.cookies.get('SESSION')!)).toBe(after);
    expect((await user.get('/state')).body).toEqual({ visits: null, last: null });
  });
});
