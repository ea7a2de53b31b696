import { Body, Controller, Get, HttpCode, Module, Post, type DynamicModule, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  EnableRedisHttpSession, HttpSession, Session, SessionIoAdapter, type SessionModuleOptions,
} from 'nestjs-redis-session';

type Attrs = { userId: string; [key: string]: unknown };

@Controller()
class HttpFixtureController {
  @Post('login')
  @HttpCode(200)
  login(@Session() session: HttpSession<Attrs>, @Body() body: { userId: string }) {
    session.changeId();
    session.set('userId', body.userId);
    return { id: session.id };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Session({ create: false }) session?: HttpSession<Attrs>) {
    await session?.invalidate();
  }

  @Post('set')
  @HttpCode(200)
  set(@Session() session: HttpSession<Attrs>, @Body() body: { name: string; value: unknown }) {
    session.set(body.name, body.value as never);
    return {};
  }

  @Get('get')
  get(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { exists: session !== undefined, id: session?.id ?? null, attributes: Object.fromEntries((session?.attributeNames() ?? []).map((n) => [n, session!.get(n)])) };
  }
}

@WebSocketGateway()
class ChatFixtureGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }

  @SubscribeMessage('read')
  read(@Session() session: HttpSession<Attrs>, @MessageBody() name: string) {
    return { value: session.get(name) ?? null };
  }

  @SubscribeMessage('write')
  write(@Session() session: HttpSession<Attrs>, @MessageBody() body: { name: string; value: unknown }) {
    session.set(body.name, body.value as never);
    return { ok: true };
  }
}

/** A second gateway on the same (root) namespace: the session handling must still run once per socket and event. */
@WebSocketGateway()
class PresenceFixtureGateway {
  @SubscribeMessage('whoami')
  whoami(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { sessionId: session?.id ?? null, userId: session?.get('userId') ?? null };
  }
}

@WebSocketGateway({ namespace: 'other' })
class OtherNamespaceGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

@WebSocketGateway({ namespace: 'other' })
class OtherNamespacePresenceGateway {
  @SubscribeMessage('whoami')
  whoami(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { sessionId: session?.id ?? null, userId: session?.get('userId') ?? null };
  }
}

@Module({})
class WsFixtureModule {
  static with(options: SessionModuleOptions): DynamicModule {
    return {
      module: WsFixtureModule,
      imports: [EnableRedisHttpSession.forRoot(options)],
      controllers: [HttpFixtureController],
      providers: [ChatFixtureGateway, PresenceFixtureGateway, OtherNamespaceGateway, OtherNamespacePresenceGateway],
    };
  }
}

/** The fixture app (HTTP + Socket.IO with the session adapter) on a loopback port. */
export async function startWsFixtureApp(options: SessionModuleOptions, logger: LoggerService | ['error', 'warn'] = ['error', 'warn']): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(WsFixtureModule.with(options), new ExpressAdapter(), { logger });
  app.useWebSocketAdapter(new SessionIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}
