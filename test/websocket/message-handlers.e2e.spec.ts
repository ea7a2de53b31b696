import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, HttpCode, Module, Post, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { Ack, MessageBody, SubscribeMessage, WebSocketGateway, WsException, type WsResponse } from '@nestjs/websockets';
import { EnableRedisHttpSession, HttpSession, Session, SessionIoAdapter } from 'nestjs-redis-session';
import { from, Observable } from 'rxjs';
import type { Socket } from 'socket.io-client';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket } from './socket-client.js';

/** Streams torn down on the server, per app: a stream must end when its socket disconnects. */
const teardowns = new Map<string, number>();

function parityGateway(label: string): Type {
  @WebSocketGateway()
  class ParityGateway {
    @SubscribeMessage('value')
    value(@MessageBody() data: unknown) {
      return { got: data };
    }

    @SubscribeMessage('promise')
    async promise(@MessageBody() data: unknown) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { got: data };
    }

    @SubscribeMessage('event')
    event(@MessageBody() data: unknown): WsResponse {
      return { event: 'reply', data };
    }

    @SubscribeMessage('events')
    events(): Observable<WsResponse<number>> {
      return from([1, 2, 3].map((data) => ({ event: 'numbered', data })));
    }

    @SubscribeMessage('values')
    values(): Observable<number> {
      return from([1, 2, 3]);
    }

    @SubscribeMessage('nothing')
    nothing(): undefined {
      return undefined;
    }

    @SubscribeMessage('throws')
    throws(): never {
      throw new Error('boom');
    }

    @SubscribeMessage('refuses')
    refuses(): never {
      throw new WsException('not allowed');
    }

    @SubscribeMessage('manual')
    manual(@MessageBody() data: unknown, @Ack() ack: (response: unknown) => void) {
      setTimeout(() => ack({ manual: data }), 20); // later than the result
      return { returned: true }; // not sent: the handler took the ack
    }

    @SubscribeMessage('stream')
    stream(): Observable<WsResponse<number>> {
      return new Observable((subscriber) => {
        let n = 0;
        const timer = setInterval(() => subscriber.next({ event: 'tick', data: n++ }), 10);
        return () => {
          clearInterval(timer);
          teardowns.set(label, (teardowns.get(label) ?? 0) + 1);
        };
      });
    }
  }
  return ParityGateway;
}

@Controller()
class StartController {
  @Post('start')
  @HttpCode(200)
  start(@Session() session: HttpSession) {
    session.set('started', true);
    return {};
  }
}

interface Served {
  app: INestApplication;
  url: string;
  cookie?: string;
}

/** Nest's own IoAdapter, the oracle: no session module. */
async function serveWithIoAdapter(): Promise<Served> {
  @Module({ providers: [parityGateway('IoAdapter')] })
  class PlainModule {}
  const app = await NestFactory.create(PlainModule, new ExpressAdapter(), { logger: false });
  app.useWebSocketAdapter(new IoAdapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

async function serveWithSessionIoAdapter(): Promise<Served> {
  @Module({
    imports: [EnableRedisHttpSession.forRoot({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('ws-message-handlers') })],
    controllers: [StartController],
    providers: [parityGateway('SessionIoAdapter')],
  })
  class SessionModule {}
  const app = await NestFactory.create(SessionModule, new ExpressAdapter(), { logger: false });
  app.useWebSocketAdapter(new SessionIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const started = await fetch(`${url}/start`, { method: 'POST' });
  return { app, url, cookie: started.headers.getSetCookie()[0].split(';')[0] };
}

const next = <T>(socket: Socket, event: string, timeoutMs = 3000) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// SessionIoAdapter binds handlers without Nest's per-socket RxJS pipeline: every case is checked
// against Nest's own IoAdapter with the same expectations.
describe.each([
  ['IoAdapter', serveWithIoAdapter],
  ['SessionIoAdapter', serveWithSessionIoAdapter],
])('gateway handlers under %s', (label, serve) => {
  let served: Served;
  let socket: Socket;

  beforeAll(async () => {
    served = await serve();
    socket = await connectSocket(served.url, { cookie: served.cookie });
  });

  afterAll(async () => {
    socket?.disconnect();
    await served?.app.close();
  });

  it('acks a value and a promise with the handler result', async () => {
    expect(await socket.timeout(3000).emitWithAck('value', { a: 1 })).toEqual({ got: { a: 1 } });
    expect(await socket.timeout(3000).emitWithAck('promise', 'p')).toEqual({ got: 'p' });
  });

  it('hands several arguments to the handler as an array, and none as undefined', async () => {
    expect(await socket.timeout(3000).emitWithAck('value', 1, 2)).toEqual({ got: [1, 2] });
    expect(await socket.timeout(3000).emitWithAck('value', [1, 2])).toEqual({ got: [1, 2] });
    expect(await socket.timeout(3000).emitWithAck('value')).toEqual({});
  });

  it('sends a WsResponse as its event, and every value of an observable of them', async () => {
    const reply = next(socket, 'reply');
    socket.emit('event', 'hello');
    expect(await reply).toBe('hello');
    const numbered: number[] = [];
    const third = new Promise<void>((resolve) =>
      socket.on('numbered', (n: number) => {
        numbered.push(n);
        if (numbered.length === 3) resolve();
      }),
    );
    socket.emit('events');
    await third;
    socket.off('numbered');
    expect(numbered).toEqual([1, 2, 3]);
  });

  it('acks with the first value of an observable, and not at all for a nil result', async () => {
    expect(await socket.timeout(3000).emitWithAck('values')).toBe(1);
    await expect(socket.timeout(300).emitWithAck('nothing')).rejects.toThrow();
  });

  it('leaves the ack to a handler that takes it with @Ack()', async () => {
    expect(await socket.timeout(3000).emitWithAck('manual', 'm')).toEqual({ manual: 'm' });
  });

  it('reports a thrown error and a WsException as exception events, and the event stays bound', async () => {
    const failed = next(socket, 'exception');
    socket.emit('throws');
    expect(await failed).toEqual({ status: 'error', message: 'Internal server error', cause: { pattern: 'throws' } });
    const refused = next(socket, 'exception');
    socket.emit('refuses');
    expect(await refused).toMatchObject({ status: 'error', message: 'not allowed' });
    socket.emit('throws'); // again: still answered
    await expect(next(socket, 'exception')).resolves.toMatchObject({ status: 'error' });
    expect(await socket.timeout(3000).emitWithAck('value', 'after')).toEqual({ got: 'after' });
  });

  it('ends a stream still running when its socket disconnects', async () => {
    const other = await connectSocket(served.url, { cookie: served.cookie });
    const before = teardowns.get(label) ?? 0;
    other.emit('stream');
    await next(other, 'tick'); // the stream runs
    await next(other, 'tick');
    other.disconnect();
    await until(() => (teardowns.get(label) ?? 0) === before + 1, 2000);
  });
});
