import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fastifyCompress from '@fastify/compress';
import {
  Body, Catch, Controller, ForbiddenException, Get, HttpCode, HttpException, Injectable, Module, Post, Res, UseFilters, UseGuards,
  type ArgumentsHost, type CanActivate, type ExceptionFilter, type ExecutionContext, type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import compression from 'compression';
import { RedisStore } from 'connect-redis';
import expressSession from 'express-session';
import helmet from 'helmet';
import { Redis } from 'ioredis';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync, brotliDecompressSync, inflateSync } from 'node:zlib';
import { EnableRedisHttpSession, HttpSession, resolveSession, Session, type SessionModuleOptions } from 'nestjs-redis-session';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { sessionRedisClient, sessionRedisOption, uniqueNamespace, type SharedRedisClient } from '../harness/redis.js';
import { recordUnhandledRejections } from './host-process.js';
import { sessionIdOf, type Platform } from './fixture-app.js';
import { eventually } from '../harness/eventually.js';

/** A body well over compression's 1 KB threshold, so that it goes out through the compression stream. */
const bigBody = (value: number) => ({ value, padding: 'session '.repeat(1024) });

type Attrs = { value: number };

class TeapotError extends Error {
  constructor(readonly value: number) {
    super('teapot');
  }
}

/** An exception filter that writes to the session, then answers itself. */
@Catch(TeapotError)
class SessionWritingFilter implements ExceptionFilter {
  async catch(error: TeapotError, host: ArgumentsHost) {
    const session = await resolveSession<Attrs>(host);
    session.set('value', error.value);
    const response = host.switchToHttp().getResponse();
    const body = bigBody(error.value);
    if (typeof response.code === 'function') response.code(418).send(body);
    else response.status(418).json(body);
  }
}

/** The app's own filter for HttpExceptions: says in a header which exception reached it. */
@Catch(HttpException)
class AppHttpExceptionFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse();
    const body = exception.getResponse();
    const name = exception.constructor.name;
    if (typeof response.code === 'function') response.code(exception.getStatus()).header('x-app-filter', name).send(body);
    else response.status(exception.getStatus()).setHeader('x-app-filter', name).json(body);
  }
}

@Injectable()
class WriteThenDenyGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const session = await resolveSession<Attrs>(context);
    session.set('value', context.switchToHttp().getRequest().body.value);
    throw new ForbiddenException('written, then denied');
  }
}

const delay = (ms: number | undefined) => new Promise((resolve) => setTimeout(resolve, ms ?? 0));

@Controller()
class WrappersController {
  @Post('write')
  @HttpCode(200)
  async write(@Session() session: HttpSession<Attrs>, @Body() body: { value: number; delayMs?: number }) {
    session.set('value', body.value);
    await delay(body.delayMs);
    return bigBody(body.value);
  }

  @Post('write-raw')
  async writeRaw(@Session() session: HttpSession<Attrs>, @Body() body: { value: number; delayMs?: number }, @Res() response: any) {
    session.set('value', body.value);
    await delay(body.delayMs);
    if (typeof response.code === 'function') response.code(200).send(bigBody(body.value));
    else response.status(200).json(bigBody(body.value));
  }

  @Post('write-then-deny')
  @UseGuards(WriteThenDenyGuard)
  writeThenDeny() {
    return { reached: true };
  }

  @Post('write-in-filter')
  @UseFilters(SessionWritingFilter)
  writeInFilter(@Body() body: { value: number }) {
    throw new TeapotError(body.value);
  }

  @Get('read')
  read(@Session({ create: false }) session?: HttpSession<Attrs>) {
    return { value: session?.get('value') ?? null };
  }
}

@Module({})
class WrappersModule {}

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  /** The decoded body. */
  body: string;
  /** What `onHeaders` returned, called when the status and headers arrived and before the body is read. */
  atHeaders: unknown;
}

/** One request on the given agent's connection; the body is decompressed as a browser would. */
function exchange(agent: Agent, url: string, method: string, path: string, cookie: string | undefined, body: unknown, onHeaders?: () => Promise<unknown>): Promise<Exchange> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url + path,
      {
        method,
        agent,
        headers: {
          'accept-encoding': 'gzip, deflate, br',
          ...(cookie ? { cookie } : {}),
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        response.pause();
        (onHeaders ?? (async () => undefined))().then((atHeaders) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const raw = Buffer.concat(chunks);
            const encoding = response.headers['content-encoding'];
            const decoded = encoding === 'gzip' ? gunzipSync(raw) : encoding === 'br' ? brotliDecompressSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw;
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: decoded.toString('utf8'), atHeaders });
          });
          response.resume();
        }, reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.end(payload);
  });
}

function sessionCookieOf(headers: IncomingHttpHeaders): string | undefined {
  const cookie = (headers['set-cookie'] ?? []).find((line) => line.startsWith('SESSION='));
  return cookie?.split(';')[0];
}

async function startApp(platform: Platform, options: SessionModuleOptions, client: Redis | undefined): Promise<{ app: INestApplication; url: string }> {
  const module = { module: WrappersModule, imports: [EnableRedisHttpSession.forRoot(options)], controllers: [WrappersController], providers: [WriteThenDenyGuard] };
  let app: INestApplication;
  if (platform === 'express') {
    const express = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), { logger: ['error'], abortOnError: false });
    express.use(helmet());
    express.use(compression());
    // express-session beside us, as during a migration; each request writes to it, so that its own end() wrapper holds the response too.
    express.use(expressSession({ store: new RedisStore({ client, prefix: `${options.redisNamespace}:es:` }), secret: 'wrappers', resave: false, saveUninitialized: false }));
    express.use((req: any, _res: unknown, next: () => void) => {
      req.session.hits = (req.session.hits ?? 0) + 1;
      next();
    });
    app = express;
  } else {
    const fastify = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { logger: ['error'], abortOnError: false });
    await fastify.register(fastifyCompress as never, { threshold: 1024 });
    app = fastify;
  }
  app.useGlobalFilters(new AppHttpExceptionFilter());
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

const WRITES = [
  { path: '/write', status: 200, by: 'the session filter' },
  { path: '/write-raw', status: 200, by: 'the backstop (@Res())' },
  { path: '/write-then-deny', status: 403, by: 'the backstop (a guard that writes, then denies)' },
  { path: '/write-in-filter', status: 418, by: 'the backstop (an exception filter that writes)' },
];

describe.each<Platform>(['express', 'fastify'])('the session filter beside other response wrappers on %s', (platform) => {
  const namespace = uniqueNamespace('wrappers');
  let app: INestApplication;
  let url: string;
  let redis: SharedRedisClient;
  let expressSessionClient: Redis | undefined;

  beforeAll(async () => {
    redis = sessionRedisClient();
    // express-session's store on a standalone client of its own (connect-redis does not speak Cluster).
    if (platform === 'express') expressSessionClient = new Redis((await redisForExpressSession()).url, { maxRetriesPerRequest: 1 });
    ({ app, url } = await startApp(platform, { redis: sessionRedisOption(), redisNamespace: namespace }, expressSessionClient));
  });

  afterAll(async () => {
    await app?.close();
    await redis?.quit();
    await expressSessionClient?.quit();
    if (platform === 'express') await stopRedisForExpressSession();
  });

  it(platform === 'express' ? 'with helmet, compression and express-session mounted: 200 write-then-read pairs on two connections, each write stored before its status line, bodies intact' : 'with @fastify/compress: 200 write-then-read pairs on two connections, each write stored before its status line, bodies intact', async () => {
    const writer = new Agent({ keepAlive: true, maxSockets: 1 });
    const reader = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await exchange(writer, url, 'POST', '/write', undefined, { value: -1 });
    const cookie = sessionCookieOf(first.headers)!;
    expect(cookie).toBeDefined();
    const key = `${namespace}:sessions:{${sessionIdOf(cookie.slice('SESSION='.length))}}`;
    const outcomes: Record<string, { pairs: number; storedAtHeaders: number; readsSeeingWrite: number; intactBodies: number; statuses: Set<number> }> = {};
    try {
      for (let i = 0; i < 200; i++) {
        const kind = WRITES[i % WRITES.length];
        const outcome = (outcomes[kind.by] ??= { pairs: 0, storedAtHeaders: 0, readsSeeingWrite: 0, intactBodies: 0, statuses: new Set() });
        const written = await exchange(writer, url, 'POST', kind.path, cookie, { value: i }, () => redis.hget(key, 'sessionAttr:value'));
        const read = await exchange(reader, url, 'GET', '/read', cookie, undefined);
        outcome.pairs++;
        outcome.statuses.add(written.status);
        if (written.atHeaders === String(i)) outcome.storedAtHeaders++;
        if (JSON.parse(read.body).value === i) outcome.readsSeeingWrite++;
        const body = JSON.parse(written.body);
        if (kind.status === 403 ? body.statusCode === 403 : body.value === i && body.padding === bigBody(i).padding) outcome.intactBodies++;
      }
    } finally {
      writer.destroy();
      reader.destroy();
    }
    for (const kind of WRITES) {
      const { pairs, storedAtHeaders, readsSeeingWrite, intactBodies, statuses } = outcomes[kind.by];
      expect({ by: kind.by, pairs, storedAtHeaders, readsSeeingWrite, intactBodies, statuses: [...statuses] }).toEqual({
        by: kind.by, pairs: 50, storedAtHeaders: 50, readsSeeingWrite: 50, intactBodies: 50, statuses: [kind.status],
      });
    }
  });

  it('the compressed responses really went through the compression (the test can see an unheld body)', async () => {
    const agent = new Agent({ keepAlive: false });
    const response = await exchange(agent, url, 'POST', '/write-raw', undefined, { value: 7 });
    expect(response.headers['content-encoding']).toMatch(/^(gzip|br|deflate)$/);
    if (platform === 'express') expect(response.headers['x-content-type-options']).toBe('nosniff'); // helmet's
  });
});

describe.each<Platform>(['express', 'fastify'])('Redis failing while a response is held, beside compression, on %s', (platform) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let expressSessionClient: Redis | undefined;

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    server = await startRedisServer();
    // express-session keeps its own Redis: only the session store of this library goes away.
    if (platform === 'express') expressSessionClient = new Redis((await redisForExpressSession()).url, { maxRetriesPerRequest: 1 });
    ({ app, url } = await startApp(platform, { redis: server.url, redisNamespace: uniqueNamespace('held-down'), commandTimeoutMs: 500 }, expressSessionClient));
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
    await expressSessionClient?.quit();
    if (platform === 'express') await stopRedisForExpressSession();
    rejections.stop();
  });

  it.each([
    ['/write', 'the session filter: the 503 reaches the app\'s own exception filter', 'SessionStoreUnavailableError'],
    ['/write-raw', 'the backstop (@Res()): a 503 instead of the held 200', undefined],
  ])('%s, Redis stopped after the handler wrote: %s', async (path, _label, appFilterSaw) => {
    await server.restart();
    const agent = new Agent({ keepAlive: false });
    const login = await eventually(async () => {
      const response = await exchange(agent, url, 'POST', '/write', undefined, { value: 1 });
      expect(response.status).toBe(200);
      return response;
    });
    const cookie = sessionCookieOf(login.headers);
    const pending = exchange(agent, url, 'POST', path, cookie, { value: 2, delayMs: 300 });
    await delay(100);
    await server.stop();
    const response = await pending;
    expect({ status: response.status, body: JSON.parse(response.body), appFilter: response.headers['x-app-filter'] }).toEqual({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'The session store is unavailable; please retry shortly' },
      appFilter: appFilterSaw,
    });
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(rejections.reasons).toEqual([]);
  });
});

/** A standalone Redis for express-session (connect-redis speaks no Cluster), shared by this file's suites. */
let expressSessionRedis: Promise<RedisServer> | undefined;
let expressSessionUsers = 0;
function redisForExpressSession(): Promise<RedisServer> {
  expressSessionUsers++;
  return (expressSessionRedis ??= startRedisServer());
}
async function stopRedisForExpressSession(): Promise<void> {
  if (expressSessionRedis === undefined || --expressSessionUsers > 0) return;
  const server = await expressSessionRedis;
  expressSessionRedis = undefined;
  await server.stop();
}
