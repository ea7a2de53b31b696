import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, HttpCode, Module, Post, Res, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { EnableRedisHttpSession, HttpSession, Session, type HttpExchange, type SessionIdResolver, type SessionModuleOptions } from 'nestjs-redis-session';
import { eventually } from '../harness/eventually.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import type { Platform } from './fixture-app.js';

/** Adds a cookie of the app's own beside ours, on either platform's response. */
function addOtherCookie(response: any, cookie: string): void {
  if (typeof response.append === 'function') response.append('Set-Cookie', cookie);
  else response.header('set-cookie', cookie);
}

/** A user's own resolver: the id in an `X-Custom-Id` response header, set through the platform's response directly. */
class CustomHeaderResolver implements SessionIdResolver {
  resolveSessionIds(exchange: HttpExchange): readonly string[] {
    const value = exchange.rawRequest.headers['x-custom-id'];
    return typeof value === 'string' ? [value] : [];
  }
  setSessionId(exchange: HttpExchange, id: string): void {
    const response = exchange.platformResponse as any;
    if (typeof response.setHeader === 'function') response.setHeader('X-Custom-Id', id);
    else response.header('X-Custom-Id', id);
  }
  expireSession(exchange: HttpExchange): void {
    this.setSessionId(exchange, '');
  }
}

@Controller()
class NewSessionController {
  /** Committed by the session filter; its other cookies are set before and after ours. */
  @Post('new')
  @HttpCode(200)
  async create(@Session() session: HttpSession, @Res({ passthrough: true }) response: unknown, @Body() body: { delayMs?: number }) {
    addOtherCookie(response, 'before=1; Path=/');
    session.set('a', 1);
    addOtherCookie(response, 'after=1; Path=/');
    if (body?.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    return { id: session.id };
  }

  /** A new session whose id changes before it is stored (a login on a first visit): the cookie is set twice. */
  @Post('new-changed')
  @HttpCode(200)
  async changed(@Session() session: HttpSession, @Res({ passthrough: true }) response: unknown, @Body() body: { delayMs?: number }) {
    addOtherCookie(response, 'before=1; Path=/');
    session.set('a', 1);
    session.changeId();
    if (body?.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    return { id: session.id };
  }

  /** Answered through @Res(): the backstop commits it while holding the response. */
  @Post('new-raw')
  async raw(@Session() session: HttpSession, @Res() response: any, @Body() body: { delayMs?: number }) {
    addOtherCookie(response, 'before=1; Path=/');
    session.set('a', 1);
    if (body?.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    if (typeof response.code === 'function') response.code(200).send({ id: session.id });
    else response.status(200).json({ id: session.id });
  }
}

async function start(platform: Platform, options: SessionModuleOptions): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [EnableRedisHttpSession.forRoot(options)], controllers: [NewSessionController] })
  class AppModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter as never, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

async function post(url: string, path: string, body: object): Promise<{ status: number; setCookies: string[]; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return { status: response.status, setCookies: response.headers.getSetCookie(), headers: response.headers };
}

const cookieNames = (setCookies: string[]) => setCookies.map((cookie) => cookie.slice(0, cookie.indexOf('=')));

describe.each<Platform>(['express', 'fastify'])('a new session whose first write fails, on %s', (platform) => {
  let server: RedisServer;
  let cookieApp: { app: INestApplication; url: string };
  let headerApp: { app: INestApplication; url: string };
  let customApp: { app: INestApplication; url: string };

  beforeAll(async () => {
    server = await startRedisServer();
    const common = { redis: server.url, commandTimeoutMs: 300 };
    cookieApp = await start(platform, { ...common, redisNamespace: uniqueNamespace('unstored') });
    headerApp = await start(platform, { ...common, redisNamespace: uniqueNamespace('unstored-h'), idResolver: 'header' });
    customApp = await start(platform, { ...common, redisNamespace: uniqueNamespace('unstored-c'), idResolver: new CustomHeaderResolver() });
  });

  afterAll(async () => {
    await cookieApp.app.close();
    await headerApp.app.close();
    await customApp.app.close();
    await server.stop();
  });

  const routes: [string, string][] = [
    ['committed by the session filter', '/new'],
    ['its id changed before the first write', '/new-changed'],
    ['answered through @Res(), committed by the backstop', '/new-raw'],
  ];

  it.each(routes)('with Redis up (%s): the SESSION cookie beside the app\'s own', async (_label, path) => {
    await eventually(async () => expect((await post(cookieApp.url, path, {})).status).toBe(200));
    const { setCookies } = await post(cookieApp.url, path, {});
    expect(cookieNames(setCookies)).toContain('SESSION');
    expect(cookieNames(setCookies)).toContain('before');
    const header = await post(headerApp.url, path, {});
    expect(header.headers.get('x-auth-token')).toMatch(/\S/);
    expect((await post(customApp.url, path, {})).headers.get('x-custom-id')).toMatch(/\S/);
  });

  it.each(routes)('Redis stopped during the request (%s): a 503 without the SESSION cookie; the app\'s own cookies stay', async (_label, path) => {
    await eventually(async () => expect((await post(cookieApp.url, path, {})).status).toBe(200));
    const cookie = post(cookieApp.url, path, { delayMs: 300 });
    const header = post(headerApp.url, path, { delayMs: 300 });
    const custom = post(customApp.url, path, { delayMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.stop();
    try {
      const cookieResponse = await cookie;
      expect(cookieResponse.status).toBe(503);
      expect(cookieNames(cookieResponse.setCookies)).not.toContain('SESSION');
      expect(cookieNames(cookieResponse.setCookies)).toContain('before');
      if (path === '/new') expect(cookieNames(cookieResponse.setCookies)).toContain('after');
      const headerResponse = await header;
      expect(headerResponse.status).toBe(503);
      expect(headerResponse.headers.get('x-auth-token')).toBeNull();
      const customResponse = await custom;
      expect(customResponse.status).toBe(503);
      expect(customResponse.headers.get('x-custom-id')).toBeNull();
    } finally {
      await server.restart();
    }
  });
});
