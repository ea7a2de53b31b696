import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Injectable, Module, Post, type CallHandler, type ExecutionContext, type INestApplication, type NestInterceptor } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { EnableRedisHttpSession, HttpSession, Session, SessionIoAdapter } from 'nestjs-redis-session';
import type { Observable } from 'rxjs';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket } from './socket-client.js';

/**
 * The filter and `@Session()` find their message's session context without an AsyncLocalStorage
 * while Nest runs them synchronously. Here an app interceptor, ahead of the filter, awaits before
 * `next.handle()`, so that the filter, the parameter and the commit all run outside that window:
 * they must still find their own message's session, among concurrent messages of one socket,
 * whatever the message carries (an ack, an object payload, a primitive payload, nothing).
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = () => sleep(Math.floor(Math.random() * 15));

@Injectable()
class AwaitingInterceptor implements NestInterceptor {
  escaped = 0;

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    await jitter();
    if (context.getType() === 'ws') this.escaped++;
    return next.handle();
  }
}

@Controller()
class StateController {
  @Post('start')
  @HttpCode(200)
  start(@Session() session: HttpSession) {
    session.set('started', true);
    return { id: session.id };
  }

  @Get('state')
  state(@Session() session: HttpSession) {
    return Object.fromEntries(session.attributeNames().map((name) => [name, session.get(name)]));
  }
}

@WebSocketGateway()
class MarkGateway {
  // Each handler writes its own attribute after a delay of its own: a handler given another
  // message's session, or committed by another message's filter, loses its write.
  @SubscribeMessage('mark')
  async mark(@Session() session: HttpSession, @MessageBody() body: unknown) {
    await jitter();
    const name = `mark:${typeof body === 'object' && body !== null ? (body as { n: number }).n : String(body)}`;
    session.set(name, true);
    return { id: session.id, name };
  }
}

describe('Gateway messages find their own session context outside the synchronous window', () => {
  let app: INestApplication;
  let url: string;
  let interceptor: AwaitingInterceptor;

  beforeAll(async () => {
    @Module({
      imports: [EnableRedisHttpSession.forRoot({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('ws-message-context') })],
      controllers: [StateController],
      providers: [MarkGateway],
    })
    class MessageContextModule {}
    app = await NestFactory.create(MessageContextModule, new ExpressAdapter(), { logger: ['error', 'warn'] });
    interceptor = new AwaitingInterceptor();
    // Registered before init: Nest runs it ahead of the module's APP_INTERCEPTOR (the filter).
    app.useGlobalInterceptors(interceptor);
    app.useWebSocketAdapter(new SessionIoAdapter(app));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(() => app?.close());

  async function start(): Promise<{ cookie: string; id: string }> {
    const response = await fetch(`${url}/start`, { method: 'POST' });
    return { cookie: response.headers.getSetCookie()[0].split(';')[0], id: ((await response.json()) as { id: string }).id };
  }

  async function state(cookie: string): Promise<Record<string, unknown>> {
    return (await (await fetch(`${url}/state`, { headers: { cookie } })).json()) as Record<string, unknown>;
  }

  it('20 concurrent messages with acks (object and primitive payloads, and none): each stored before its ack', async () => {
    const { cookie, id } = await start();
    const socket = await connectSocket(url, { cookie });
    const escapedBefore = interceptor.escaped;
    try {
      const payloads: unknown[] = [...Array.from({ length: 8 }, (_, n) => ({ n })), ...Array.from({ length: 8 }, (_, n) => 100 + n), 'text', true, null];
      const answers = await Promise.all(payloads.map((payload) => socket.timeout(10_000).emitWithAck('mark', payload)));
      const noPayload = await socket.timeout(10_000).emitWithAck('mark');
      expect(interceptor.escaped - escapedBefore).toBe(payloads.length + 1);
      for (const answer of [...answers, noPayload]) expect(answer).toMatchObject({ id });
      const stored = await state(cookie);
      for (const { name } of [...answers, noPayload] as { name: string }[]) expect(stored[name]).toBe(true);
      expect(Object.keys(stored).filter((name) => name.startsWith('mark:'))).toHaveLength(payloads.length + 1);
    } finally {
      socket.disconnect();
    }
  });

  it('10 concurrent messages without acks and with primitive payloads: every write stored', async () => {
    const { cookie } = await start();
    const socket = await connectSocket(url, { cookie });
    const escapedBefore = interceptor.escaped;
    try {
      for (let n = 0; n < 10; n++) socket.emit('mark', 200 + n);
      const deadline = Date.now() + 5000;
      let marks: string[] = [];
      while (Date.now() < deadline) {
        marks = Object.keys(await state(cookie)).filter((name) => name.startsWith('mark:'));
        if (marks.length === 10) break;
        await sleep(50);
      }
      expect(interceptor.escaped - escapedBefore).toBe(10);
      expect(marks.sort()).toEqual(Array.from({ length: 10 }, (_, n) => `mark:${200 + n}`).sort());
    } finally {
      socket.disconnect();
    }
  });
});
