import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, HttpCode, Module, Post, UsePipes, ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { IsString, MinLength } from 'class-validator';
import { EnableRedisHttpSession, HttpSession, Session, SessionIoAdapter } from 'nestjs-redis-session';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket } from './socket-client.js';

type Chat = { said: number };

class SayDto {
  @IsString() @MinLength(1) text!: string;
}

@Controller()
class SignInController {
  @Post('start')
  @HttpCode(200)
  start(@Session() session: HttpSession<Chat>) {
    session.set('said', 0);
    return { id: session.id };
  }
}

// ValidationPipe on a gateway, as Nest's docs show it: the session parameter is typed with the HttpSession class.
@WebSocketGateway()
@UsePipes(new ValidationPipe({ transform: true, validateCustomDecorators: true }))
class SayGateway {
  @SubscribeMessage('say')
  say(@Session() session: HttpSession<Chat>, @MessageBody() dto: SayDto) {
    session.set('said', (session.get('said') ?? 0) + 1);
    return { said: session.get('said'), isSession: session instanceof HttpSession, dtoIsInstance: dto instanceof SayDto };
  }
}

describe('@Session() in a gateway handler under ValidationPipe (transform, validateCustomDecorators)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({
      imports: [EnableRedisHttpSession.forRoot({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('ws-validation-pipe') })],
      controllers: [SignInController],
      providers: [SayGateway],
    })
    class WsValidationPipeModule {}
    app = await NestFactory.create(WsValidationPipeModule, new ExpressAdapter(), { logger: ['error', 'warn'] });
    app.useWebSocketAdapter(new SessionIoAdapter(app));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(() => app?.close());

  it('the handler gets the live session and its change is saved; an invalid payload is still refused', async () => {
    const started = await fetch(`${url}/start`, { method: 'POST' });
    const cookie = started.headers.getSetCookie()[0].split(';')[0];
    const socket = await connectSocket(url, { cookie });
    try {
      expect(await socket.emitWithAck('say', { text: 'hi' })).toEqual({ said: 1, isSession: true, dtoIsInstance: true });
      expect(await socket.emitWithAck('say', { text: 'again' })).toMatchObject({ said: 2 });
      // The pipe is active: an empty text fails validation (Nest reports it as an 'exception' event).
      const refused = new Promise((resolve) => socket.once('exception', resolve));
      socket.emit('say', { text: '' });
      expect(await refused).toMatchObject({ status: 'error' });
    } finally {
      socket.disconnect();
    }
  });
});
