import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, HttpCode, HttpException, Injectable, Module, Post, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  EnableRedisHttpSession, HttpSession, Session, SessionIoAdapter, SessionOptionsError, SessionRepositoryFilter, type SessionCommit,
  type SessionModuleOptions,
} from 'nestjs-redis-session';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { connectSocket } from '../websocket/socket-client.js';
import { CookieClient } from './client.js';
import type { Platform } from './fixture-app.js';

type Attrs = { value: number };

/** Something the subclass gets from Nest's injector, to show that forRoot builds it with the app's providers. */
@Injectable()
class CommitLog {
  readonly entries: string[] = [];
}

/** A user's subclass: records each commit through a protected hook, and maps failures to its own status. */
@Injectable()
class AuditingSessionFilter extends SessionRepositoryFilter {
  constructor(private readonly log: CommitLog) {
    super();
  }

  protected override commit(context: ExecutionContext, work: SessionCommit): Promise<void> {
    this.log.entries.push(context.getType());
    return super.commit(context, work);
  }

  protected override commitFailed(error: unknown, context: ExecutionContext): unknown {
    return context.getType() === 'http' ? new HttpException({ statusCode: 507, message: 'not stored' }, 507) : super.commitFailed(error, context);
  }
}

@Controller()
class FilterController {
  @Post('set')
  @HttpCode(200)
  async set(@Session() session: HttpSession<Attrs>, @Body() body: { value: number; delayMs?: number }) {
    session.set('value', body.value);
    if (body.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    return { ok: true };
  }

  @Get('get')
  get(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { value: session?.get('value') ?? null };
  }
}

@WebSocketGateway()
class FilterGateway {
  @SubscribeMessage('write')
  write(@Session() session: HttpSession<Attrs>, @MessageBody() value: number) {
    session.set('value', value);
    return { ok: true };
  }
}

@Module({ providers: [CommitLog], exports: [CommitLog] })
class CommitLogModule {}

/** forRootAsync with `imports`: the subclass is built inside the session module, where CommitLog then resolves. */
async function start(platform: Platform, options: SessionModuleOptions): Promise<{ app: INestApplication; url: string }> {
  const module = {
    module: class FilterAppModule {},
    imports: [EnableRedisHttpSession.forRootAsync({ imports: [CommitLogModule], useFactory: () => options })],
    controllers: [FilterController],
    providers: platform === 'express' ? [FilterGateway] : [],
  };
  const app = await NestFactory.create(module, (platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()) as never, { logger: ['error'], abortOnError: false });
  if (platform === 'express') app.useWebSocketAdapter(new SessionIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

describe.each<Platform>(['express', 'fastify'])('a SessionRepositoryFilter subclass as the session filter, on %s', (platform) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    server = await startRedisServer();
    ({ app, url } = await start(platform, { redis: server.url, redisNamespace: uniqueNamespace('filter'), commandTimeoutMs: 500, sessionFilter: AuditingSessionFilter }));
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('forRoot registers the subclass, built by Nest: its hook commits a handler that wrote, and is not called for one that only read', async () => {
    const log = app.get(CommitLog).entries;
    const user = new CookieClient(url);
    expect((await user.post('/set', { value: 1 })).status).toBe(200);
    expect(log).toEqual(['http']);
    expect(await user.get('/get')).toMatchObject({ status: 200, body: { value: 1 } });
    expect(log).toEqual(['http']);
  });

  if (platform === 'express') {
    it('commits gateway message handlers too: a socket write is stored by the filter and seen over HTTP', async () => {
      const log = app.get(CommitLog).entries;
      const user = new CookieClient(url);
      await user.post('/set', { value: 1 });
      log.length = 0;
      const socket = await connectSocket(url, { cookie: `SESSION=${user.cookies.get('SESSION')}` });
      try {
        expect(await socket.emitWithAck('write', 42)).toEqual({ ok: true });
      } finally {
        socket.disconnect();
      }
      expect(log).toEqual(['ws']);
      expect(await user.get('/get')).toMatchObject({ body: { value: 42 } });
    });
  }

  it('a failed commit surfaces as the error its commitFailed hook returns', async () => {
    const user = new CookieClient(url);
    expect((await user.post('/set', { value: 1 })).status).toBe(200);
    const pending = user.post('/set', { value: 2, delayMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.stop();
    expect(await pending).toMatchObject({ status: 507, body: { statusCode: 507, message: 'not stored' } });
    await server.restart();
  });
});

describe('the sessionFilter option', () => {
  it.each([
    ['a class that does not extend SessionRepositoryFilter', class NotAFilter {}],
    ['an instance instead of a class', new SessionRepositoryFilter()],
  ])('refuses %s at start-up, naming the option', async (_label, sessionFilter) => {
    const attempt = start('express', { store: 'memory', sessionFilter: sessionFilter as never });
    await expect(attempt).rejects.toThrow(SessionOptionsError);
    await expect(attempt).rejects.toThrow(/"sessionFilter"/);
  });
});
