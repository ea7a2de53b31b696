import {
  Body, Controller, Get, HttpCode, Injectable, Module, Post, UnauthorizedException, type DynamicModule, type INestApplication, type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  EnableRedisHttpSession, HttpSession, PRINCIPAL_NAME_INDEX_NAME, Session, SessionIoAdapter, SessionRepository, type SessionModuleOptions,
} from 'nestjs-redis-session';

type Attrs = Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts handlers and store writes under way, so that a test can wait until the server has nothing left to do. */
@Injectable()
export class ServerActivity {
  handlers = 0;
  writes = 0;

  async during<T>(work: () => Promise<T> | T): Promise<T> {
    this.handlers++;
    try {
      return await work();
    } finally {
      this.handlers--;
    }
  }

  /** Counts every save and delete of the repository, wherever they come from (a handler, a socket message's commit). */
  watch(repository: SessionRepository): void {
    for (const method of ['save', 'deleteById'] as const) {
      const original = (repository[method] as (...args: unknown[]) => Promise<unknown>).bind(repository);
      (repository as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        this.writes++;
        try {
          return await original(...args);
        } finally {
          this.writes--;
        }
      };
    }
  }

  get idle(): boolean {
    return this.handlers === 0 && this.writes === 0;
  }
}

@Controller()
class SecurityController {
  constructor(private readonly activity: ServerActivity) {}

  /** Login as an application should write it: a new id first (fixation), then the user. */
  @Post('login')
  @HttpCode(200)
  login(@Session() session: HttpSession<Attrs>, @Body() body: { userId: string }) {
    session.changeId();
    session.set('userId', body.userId);
    session.set(PRINCIPAL_NAME_INDEX_NAME, body.userId);
    return { id: session.id };
  }

  @Post('logout')
  @HttpCode(204)
  logout(@Session({ create: false }) session: HttpSession<Attrs> | undefined, @Body() body: { delayMs?: number } = {}) {
    return this.activity.during(async () => {
      if (body.delayMs) await sleep(body.delayMs);
      await session?.invalidate();
    });
  }

  /** Sets an attribute, then (optionally) waits before the handler returns and the session is committed. */
  @Post('set')
  @HttpCode(200)
  set(@Session() session: HttpSession<Attrs>, @Body() body: { name: string; value: unknown; delayMs?: number }) {
    return this.activity.during(async () => {
      session.set(body.name, body.value);
      if (body.delayMs) await sleep(body.delayMs);
      return { id: session.id };
    });
  }

  @Get('me')
  me(@Session({ create: false }) session?: HttpSession<Attrs>) {
    const userId = session?.get('userId');
    if (userId === undefined) throw new UnauthorizedException('Log in first');
    return { userId };
  }

  /** Every attribute as [name, value] pairs (an array: the app builds no object from stored names). */
  @Get('attributes')
  attributes(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { exists: session !== undefined, attributes: (session?.attributeNames() ?? []).map((name) => [name, session!.get(name)]) };
  }
}

@WebSocketGateway()
class SecurityGateway {
  constructor(private readonly activity: ServerActivity) {}

  /** A message that writes to the session through @Session(), optionally slowly. */
  @SubscribeMessage('write')
  write(@Session() session: HttpSession<Attrs>, @MessageBody() body: { name: string; value: unknown; delayMs?: number }) {
    return this.activity.during(async () => {
      session.set(body.name, body.value);
      if (body.delayMs) await sleep(body.delayMs);
      return { ok: true };
    });
  }

  @SubscribeMessage('logout')
  logout(@Session({ create: false }) session: HttpSession<Attrs> | undefined, @MessageBody() body: { delayMs?: number } = {}) {
    return this.activity.during(async () => {
      if (body?.delayMs) await sleep(body.delayMs);
      await session?.invalidate();
      return { ok: true };
    });
  }

  @SubscribeMessage('whoami')
  whoami(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { sessionId: session?.id ?? null };
  }
}

@Module({})
class SecurityModule {
  static with(options: SessionModuleOptions): DynamicModule {
    return {
      module: SecurityModule,
      imports: [EnableRedisHttpSession.forRoot(options)],
      controllers: [SecurityController],
      providers: [SecurityGateway, ServerActivity],
    };
  }
}

export interface SecurityApp {
  app: INestApplication;
  url: string;
  activity: ServerActivity;
  repository: SessionRepository;
  /** Resolves once no handler runs and no store write is under way, a few polls in a row. */
  quiescent(): Promise<void>;
}

export interface SecurityAppSetup {
  platform?: 'express' | 'fastify';
  /** Serve https with this key and certificate. */
  https?: { key: string; cert: string };
  /** Trust X-Forwarded-* headers (Express `trust proxy`, Fastify `trustProxy`). */
  trustProxy?: boolean;
  logger?: LoggerService | ('error' | 'warn')[];
}

/** The security fixture (HTTP + Socket.IO with the session adapter) on a loopback port. */
export async function startSecurityApp(options: SessionModuleOptions, setup: SecurityAppSetup = {}): Promise<SecurityApp> {
  const platform = setup.platform ?? 'express';
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter({ trustProxy: setup.trustProxy ?? false, https: setup.https ?? null } as never);
  const app = await NestFactory.create(SecurityModule.with(options), adapter as never, {
    logger: setup.logger ?? ['error', 'warn'],
    ...(setup.https && platform === 'express' ? { httpsOptions: setup.https } : {}),
  });
  if (platform === 'express' && setup.trustProxy) app.getHttpAdapter().getInstance().set('trust proxy', true);
  app.useWebSocketAdapter(new SessionIoAdapter(app));
  const activity = app.get(ServerActivity);
  const repository = app.get(SessionRepository);
  activity.watch(repository);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `${setup.https ? 'https' : 'http'}://127.0.0.1:${port}`,
    activity,
    repository,
    async quiescent() {
      for (let idlePolls = 0; idlePolls < 3; ) {
        await sleep(10);
        idlePolls = activity.idle ? idlePolls + 1 : 0;
      }
    },
  };
}
