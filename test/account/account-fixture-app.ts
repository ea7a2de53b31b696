import {
  Body, Controller, Get, HttpCode, Module, NotFoundException, Param, Post, UnauthorizedException, type DynamicModule, type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  EnableRedisHttpSession, HttpSession, PRINCIPAL_NAME_INDEX_NAME, Session, SessionIoAdapter, SessionRegistry, type SessionModuleOptions,
} from 'nestjs-redis-session';

type Attributes = { user: string; cart: string[] };

/** The account pages of an app: sign-in, "your devices", sign out one or all of them. */
@Controller()
class AccountController {
  constructor(private readonly registry: SessionRegistry) {}

  @Post('login')
  @HttpCode(200)
  login(@Session() session: HttpSession<Attributes>, @Body() body: { user: string; rememberMe?: number | true }) {
    session.changeId();
    session.set('user', body.user);
    session.set(PRINCIPAL_NAME_INDEX_NAME as 'user', body.user);
    if (body.rememberMe !== undefined) session.rememberMe(body.rememberMe === true ? undefined : body.rememberMe);
    return { creationTime: session.creationTime };
  }

  @Post('cart')
  @HttpCode(200)
  addToCart(@Session() session: HttpSession<Attributes>, @Body() body: { item: string }) {
    session.set('cart', [...(session.get('cart') ?? []), body.item]);
    return { cart: session.get('cart') };
  }

  @Get('cart')
  cart(@Session({ create: false }) session?: HttpSession<Attributes>) {
    return { cart: session?.get('cart') ?? null };
  }

  @Get('me')
  me(@Session({ create: false }) session?: HttpSession<Attributes>) {
    const user = session?.get('user');
    if (!user) throw new UnauthorizedException();
    return { user, creationTime: session!.creationTime, expiresAt: session!.expiresAt, isRemembered: session!.isRemembered };
  }

  @Get('sessions')
  sessions(@Session() session: HttpSession<Attributes>) {
    return this.registry.getSessions(this.userOf(session), session);
  }

  @Post('sessions/:handle/revoke')
  @HttpCode(200)
  async revoke(@Session() session: HttpSession<Attributes>, @Param('handle') handle: string) {
    if (!(await this.registry.revoke(this.userOf(session), handle))) throw new NotFoundException('No such session');
    return { revoked: true };
  }

  @Post('sessions/revoke-others')
  @HttpCode(200)
  async revokeOthers(@Session() session: HttpSession<Attributes>) {
    return { revoked: await this.registry.revokeOthers(session) };
  }

  private userOf(session: HttpSession<Attributes>): string {
    const user = session.get('user');
    if (!user) throw new UnauthorizedException();
    return user;
  }
}

@WebSocketGateway()
class AccountGateway {
  @SubscribeMessage('whoami')
  whoami(@Session({ create: false }) session?: HttpSession<Attributes>) {
    return { user: session?.get('user') ?? null };
  }
}

@Module({})
class AccountFixtureModule {
  static with(options: SessionModuleOptions): DynamicModule {
    return { module: AccountFixtureModule, imports: [EnableRedisHttpSession.forRoot(options)], controllers: [AccountController], providers: [AccountGateway] };
  }
}

export interface AccountInstance {
  app: INestApplication;
  url: string;
}

/** The account fixture (HTTP + Socket.IO through the session adapter) on a loopback port; Express unless told. */
export async function startAccountApp(
  options: SessionModuleOptions,
  setup: { trustProxy?: boolean; platform?: 'express' | 'fastify' } = {},
): Promise<AccountInstance> {
  const trustProxy = setup.trustProxy ?? false;
  const adapter = setup.platform === 'fastify' ? new FastifyAdapter({ trustProxy }) : new ExpressAdapter();
  const app = await NestFactory.create(AccountFixtureModule.with(options), adapter as never, {
    logger: ['error', 'warn'],
    abortOnError: false, // a bad option rejects, as a test expects, instead of exiting the process
  });
  if (setup.platform !== 'fastify' && trustProxy) app.getHttpAdapter().getInstance().set('trust proxy', true);
  app.useWebSocketAdapter(new SessionIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}
