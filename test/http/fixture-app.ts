import { afterAll, beforeAll } from '@jest/globals';
import {
  BadRequestException, Body, ForbiddenException, CanActivate, Controller, ExecutionContext, Get, HttpCode, Injectable, Module, Post, Res, UseGuards,
  UnauthorizedException, type DynamicModule, type INestApplication, type LoggerService, type LogLevel,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { EnableRedisHttpSession, HttpSession, PRINCIPAL_NAME_INDEX_NAME, Session, resolveSession, type SessionModuleOptions } from 'nestjs-redis-session';
import { sessionRedisClient, sessionRedisOption, type SharedRedisClient } from '../harness/redis.js';

type Attrs = { userId: string; counter: number; [key: string]: unknown };

@Injectable()
class LoggedInGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const session = await resolveSession<Attrs>(context, { create: false });
    if (session?.get('userId') === undefined) throw new UnauthorizedException('Log in first');
    return true;
  }
}

/** Counts the visits it turns away in the session itself, then denies. */
@Injectable()
class CountingDenyGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const session = await resolveSession<Attrs>(context);
    session.set('denials', ((session.get('denials') as number | undefined) ?? 0) + 1);
    throw new ForbiddenException('Not for you');
  }
}

@Controller()
class FixtureController {
  @Get('plain')
  plain() {
    return { ok: true };
  }

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
  async logout(@Session({ create: false }) session?: HttpSession<Attrs>, @Body() body?: { delayMs?: number }) {
    if (body?.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    await session?.invalidate();
  }

  @Get('me')
  @UseGuards(LoggedInGuard)
  me(@Session() session: HttpSession<Attrs>) {
    return { userId: session.get('userId'), attributes: session.attributeNames() };
  }

  @Get('denied')
  @UseGuards(CountingDenyGuard)
  denied() {
    return { reached: true };
  }

  @Get('peek')
  peek(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { exists: session !== undefined, userId: session?.get('userId') ?? null };
  }

  @Post('set')
  @HttpCode(200)
  async set(@Session() session: HttpSession<Attrs>, @Body() body: { name: string; value: unknown; delayMs?: number } | undefined) {
    if (typeof body?.name !== 'string') throw new BadRequestException('Send { name, value }');
    session.set(body.name, body.value as never);
    if (body.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    return { id: session.id };
  }

  @Post('set-then-throw')
  setThenThrow(@Session() session: HttpSession<Attrs>) {
    session.set('beforeError', true as never);
    throw new UnauthorizedException('thrown after set');
  }

  @Post('change-id')
  @HttpCode(200)
  changeId(@Session() session: HttpSession<Attrs>) {
    session.changeId();
    return { id: session.id };
  }

  @Post('raw')
  raw(@Session() session: HttpSession<Attrs>, @Res() response: { status(code: number): unknown; send?: unknown; code?: unknown }) {
    session.set('raw', 1 as never);
    const res = response as any;
    if (typeof res.code === 'function') res.code(200).send({ raw: true });
    else res.status(200).json({ raw: true });
  }
}

@Module({})
class FixtureModule {
  static with(sessionModule: DynamicModule): DynamicModule {
    return { module: FixtureModule, imports: [sessionModule], controllers: [FixtureController], providers: [LoggedInGuard, CountingDenyGuard] };
  }
}

export type Platform = 'express' | 'fastify';

export interface FixtureSetup {
  /** Trust `X-Forwarded-*` headers (Express `trust proxy`, Fastify `trustProxy`). */
  trustProxy?: boolean;
  /** Nest's logger levels (default errors and warnings; `false` for start-ups expected to fail). */
  logger?: LogLevel[] | false | LoggerService;
}

/** The fixture app on a real loopback port, with `EnableRedisHttpSession.forRoot(options)`; returns it and its base URL. */
export function startFixtureApp(platform: Platform, options: SessionModuleOptions, setup: FixtureSetup = {}): Promise<{ app: INestApplication; url: string }> {
  return startFixtureAppWith(platform, EnableRedisHttpSession.forRoot(options), setup);
}

/** The fixture app importing the given session module (e.g. a `forRootAsync` one). */
export async function startFixtureAppWith(platform: Platform, sessionModule: DynamicModule, setup: FixtureSetup = {}): Promise<{ app: INestApplication; url: string }> {
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter({ trustProxy: setup.trustProxy ?? false });
  const app = await NestFactory.create(FixtureModule.with(sessionModule), adapter as never, { logger: setup.logger ?? ['error', 'warn'], abortOnError: false });
  if (platform === 'express' && setup.trustProxy) app.getHttpAdapter().getInstance().set('trust proxy', true);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}` };
}

/** The session id a `SESSION` cookie value carries (base64). */
export const sessionIdOf = (cookieValue: string): string => Buffer.from(cookieValue, 'base64').toString('utf8');

export interface RunningFixture {
  readonly app: INestApplication;
  readonly url: string;
  /** A client of the suite's shared Redis (standalone or cluster), for inspecting what was stored. */
  readonly redis: SharedRedisClient;
}

/**
 * Starts the fixture app on the suite's shared Redis before the tests of the enclosing `describe`
 * and closes it (and its inspection client) after them.
 */
export function useFixtureApp(platform: Platform, options: Omit<SessionModuleOptions, 'redis'>): RunningFixture {
  let started: { app: INestApplication; url: string } | undefined;
  let redis: SharedRedisClient | undefined;
  beforeAll(async () => {
    started = await startFixtureApp(platform, { redis: sessionRedisOption(), ...options });
    redis = sessionRedisClient();
  });
  afterAll(async () => {
    await started?.app.close();
    await redis?.quit();
  });
  const running = (): { app: INestApplication; url: string } => {
    if (!started) throw new Error('the fixture app is not started: use its fields inside tests');
    return started;
  };
  return {
    get app() {
      return running().app;
    },
    get url() {
      return running().url;
    },
    get redis() {
      if (!redis) throw new Error('the fixture app is not started: use its fields inside tests');
      return redis;
    },
  };
}
