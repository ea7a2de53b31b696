/**
 * One instance for the soak test: the library's HTTP routes and a gateway, as an app would use them.
 * Usage: node --expose-gc dist/bench/servers/soak-server.js <port> <redisUrl>. Prints "ready".
 * Also serves the socket-close latency benchmark (SESSION_TIMEOUT_SECONDS sets the idle interval).
 */
import 'reflect-metadata';
import { Controller, Get, HttpCode, Module, Post, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  EnableRedisHttpSession, HttpSession, PRINCIPAL_NAME_INDEX_NAME, Session, SessionIoAdapter, WebSocketRegistryListener,
} from 'nestjs-redis-session';
import { serveOnLoopback } from './serve-on-loopback.js';

const [port, redisUrl] = process.argv.slice(2);

type Attributes = { user: string; counter: number; [PRINCIPAL_NAME_INDEX_NAME]: string };

@Controller()
class SoakController {
  constructor(private readonly registry: WebSocketRegistryListener) {}

  @Post('login')
  @HttpCode(200)
  login(@Session() session: HttpSession<Attributes>) {
    session.changeId();
    const user = `user-${Math.random().toString(36).slice(2, 8)}`;
    session.set('user', user);
    session.set(PRINCIPAL_NAME_INDEX_NAME, user);
    session.set('counter', 0);
    return { user };
  }

  @Get('read')
  read(@Session({ create: false }) session?: HttpSession<Attributes>) {
    if (!session) throw new UnauthorizedException();
    return { counter: session.get('counter') ?? 0 };
  }

  @Post('write')
  @HttpCode(200)
  write(@Session({ create: false }) session?: HttpSession<Attributes>) {
    if (!session) throw new UnauthorizedException();
    const counter = (session.get('counter') ?? 0) + 1;
    session.set('counter', counter);
    return { counter };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Session({ create: false }) session?: HttpSession<Attributes>) {
    await session?.invalidate();
  }

  /** Memory after a full GC (the soak runs this process with --expose-gc), and the registry's size. */
  @Get('stats')
  stats() {
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed, sessionsWithSockets: this.registry.sessionCount };
  }
}

@WebSocketGateway()
class SoakGateway {
  @SubscribeMessage('chat')
  chat(@MessageBody() text: string) {
    return { echo: text };
  }

  @SubscribeMessage('whoami')
  whoami(@Session() session: HttpSession<Attributes>) {
    return { user: session.get('user') ?? null };
  }
}

@Module({
  imports: [EnableRedisHttpSession.forRoot({ redis: redisUrl, redisNamespace: 'soak', maxInactiveIntervalInSeconds: Number(process.env.SESSION_TIMEOUT_SECONDS ?? 600) })],
  controllers: [SoakController],
  providers: [SoakGateway],
})
class SoakModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(SoakModule, new ExpressAdapter(), { logger: ['error', 'warn'] });
  app.useWebSocketAdapter(new SessionIoAdapter(app));
  await serveOnLoopback(app, Number(port));
}

void main();
