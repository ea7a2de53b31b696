/**
 * One HTTP server for the throughput benchmark, in its own process so that each variant gets the
 * same CPU. Usage: node dist/bench/servers/http-server.js <express|fastify> <variant> <port> <redisUrl>
 * Variants: bare (no session), bare-interceptor (bare with one no-op global interceptor: the price of
 * the session filter's shape, an APP_INTERCEPTOR, before it does anything), floor (no session library: each route makes the Redis round trips
 * ours makes, with plain commands, straight from the handler, on one fixed hash), floor-interceptor
 * (the floor behind one no-op global interceptor: the most that any session filter of this shape
 * could reach, since it pays the interceptor and the round trips and does nothing else), ours (this
 * library), ours-req-session (the same with expressSessionApi, routes reading `req.session`), es-default (express-session + connect-redis as the Nest recipe configures it),
 * es-pipelined (the same with ioredis enableAutoPipelining), fs-pipelined (Fastify only: @fastify/session +
 * @fastify/cookie + the same connect-redis store on an auto-pipelined client, at its cheapest settings:
 * rolling false, so that a read is one GET and no write, and saveUninitialized false).
 * Routes: GET /bare, GET /read, POST /write, POST /login. Prints "ready" when listening.
 */
import 'reflect-metadata';
import { Controller, Get, HttpCode, Injectable, Module, Post, Req, type CallHandler, type DynamicModule, type ExecutionContext, type NestInterceptor, type OnModuleInit } from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { EnableRedisHttpSession, HttpSession, Session } from 'nestjs-redis-session';
import { serveOnLoopback } from './serve-on-loopback.js';

const [platform, variant, port, redisUrl] = process.argv.slice(2);

type Attributes = { user: string; counter: number };

@Controller()
class BareController {
  @Get('bare')
  bare() {
    return { ok: true };
  }
}

/** Does nothing: what any global interceptor costs a route through Nest's interceptor chain. */
@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

@Controller()
class OurSessionController {
  @Get('read')
  read(@Session() session: HttpSession<Attributes>) {
    return { user: session.get('user') ?? null };
  }

  @Post('write')
  @HttpCode(200)
  write(@Session() session: HttpSession<Attributes>) {
    session.set('counter', (session.get('counter') ?? 0) + 1);
    return { ok: true };
  }

  @Post('login')
  @HttpCode(200)
  login(@Session() session: HttpSession<Attributes>) {
    session.set('user', 'bench');
    return { ok: true };
  }
}

/**
 * What any Redis-backed session must pay at the least, on an auto-pipelined client as ours:
 * read = one HGETALL; write = HGETALL, then a plain HSET of the one field (without the check that
 * keeps ours from reviving a deleted session); login = HSET of a new hash and its TTL, pipelined.
 * Its hashes hold what the benchmark's sessions hold, so that they cost as much to write, send and
 * parse. The gap between this and ours is the library's own cost.
 */
@Controller()
class FloorController implements OnModuleInit {
  readonly #client = new Redis(redisUrl, { enableAutoPipelining: true });
  readonly #key = 'bench:floor:{hash}';

  async onModuleInit() {
    await this.#client.hset(this.#key, sessionFields());
  }

  @Get('read')
  async read() {
    const hash = await this.#client.hgetall(this.#key);
    return { user: hash['sessionAttr:user'] ?? null };
  }

  @Post('write')
  @HttpCode(200)
  async write() {
    const hash = await this.#client.hgetall(this.#key);
    await this.#client.hset(this.#key, 'sessionAttr:counter', String(Number(hash['sessionAttr:counter'] ?? 0) + 1));
    return { ok: true };
  }

  @Post('login')
  @HttpCode(200)
  async login() {
    const key = `bench:floor:{${randomUUID()}}`;
    await Promise.all([this.#client.hset(key, sessionFields()), this.#client.pexpire(key, 60_000)]);
    return { ok: true };
  }
}

/** The fields of a session of ours after the benchmark's login (Spring's layout, values as stored). */
function sessionFields(): Record<string, string | number> {
  const now = Date.now();
  return { creationTime: now, lastAccessedTime: now, maxInactiveInterval: 1800, 'sessionAttr:user': '"bench"' };
}

type ExpressSessionRequest = { session: session.Session & Partial<Attributes> };

@Controller()
class ExpressSessionController {
  @Get('read')
  read(@Req() request: ExpressSessionRequest) {
    return { user: request.session.user ?? null };
  }

  @Post('write')
  @HttpCode(200)
  write(@Req() request: ExpressSessionRequest) {
    request.session.counter = (request.session.counter ?? 0) + 1;
    return { ok: true };
  }

  @Post('login')
  @HttpCode(200)
  login(@Req() request: ExpressSessionRequest) {
    request.session.user = 'bench';
    return { ok: true };
  }
}

type FastifySessionRequest = { session: { get(key: string): unknown; set(key: string, value: unknown): void } };

/** The express-session routes, through @fastify/session's get/set. */
@Controller()
class FastifySessionController {
  @Get('read')
  read(@Req() request: FastifySessionRequest) {
    return { user: request.session.get('user') ?? null };
  }

  @Post('write')
  @HttpCode(200)
  write(@Req() request: FastifySessionRequest) {
    request.session.set('counter', Number(request.session.get('counter') ?? 0) + 1);
    return { ok: true };
  }

  @Post('login')
  @HttpCode(200)
  login(@Req() request: FastifySessionRequest) {
    request.session.set('user', 'bench');
    return { ok: true };
  }
}

@Module({})
class BenchModule {
  static forVariant(): DynamicModule {
    if (variant === 'ours' || variant === 'ours-req-session') {
      const expressSessionApi = variant === 'ours-req-session';
      return {
        module: BenchModule,
        imports: [
          EnableRedisHttpSession.forRoot({
            redis: redisUrl,
            redisNamespace: 'bench',
            // Raised and slowed under callgrind (bench/lib/callgrind.js); the library's defaults otherwise.
            ...(process.env.COMMAND_TIMEOUT_MS && { commandTimeoutMs: Number(process.env.COMMAND_TIMEOUT_MS) }),
            ...(process.env.SWEEP_MS && { sweepIntervalMs: Number(process.env.SWEEP_MS) }),
            expressSessionApi,
          }),
        ],
        // req.session through express-session's API: the same routes as express-session's.
        controllers: [BareController, expressSessionApi ? ExpressSessionController : OurSessionController],
      };
    }
    if (variant === 'bare-interceptor' || variant === 'floor-interceptor') {
      const controllers = variant === 'bare-interceptor' ? [BareController] : [BareController, FloorController];
      return { module: BenchModule, controllers, providers: [{ provide: APP_INTERCEPTOR, useClass: NoopInterceptor }] };
    }
    const routes = { bare: [], floor: [FloorController], 'fs-pipelined': [FastifySessionController] }[variant as 'bare' | 'floor' | 'fs-pipelined'] ?? [
      ExpressSessionController,
    ];
    return { module: BenchModule, controllers: [BareController, ...routes] };
  }
}

async function main(): Promise<void> {
  const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(BenchModule.forVariant(), adapter as never, { logger: ['error', 'warn'] });
  if (variant === 'es-default' || variant === 'es-pipelined') {
    const client = new Redis(redisUrl, { enableAutoPipelining: variant === 'es-pipelined' });
    // The usual Nest recipe: connect-redis store, resave false, saveUninitialized false.
    app.use(session({ store: new RedisStore({ client }), secret: 'bench-secret', resave: false, saveUninitialized: false }));
  }
  if (variant === 'fs-pipelined') {
    const fastify = app as unknown as NestFastifyApplication;
    const client = new Redis(redisUrl, { enableAutoPipelining: true });
    await fastify.register(fastifyCookie as never);
    await fastify.register(fastifySession as never, {
      store: new RedisStore({ client }),
      secret: 'bench-secret-bench-secret-bench-secret',
      cookie: { secure: false },
      rolling: false,
      saveUninitialized: false,
    });
  }
  await serveOnLoopback(app, Number(port));
}

void main();
