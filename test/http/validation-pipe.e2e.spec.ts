import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, HttpCode, Module, Post, ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IsInt, IsString, Min } from 'class-validator';
import { EnableRedisHttpSession, HttpSession, Session } from 'nestjs-redis-session';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import type { Platform } from './fixture-app.js';

type Cart = { owner: string; items: number };

class AddItemsDto {
  @IsString() owner!: string;
  @IsInt() @Min(1) items!: number;
}

// Parameters typed with the HttpSession class: its constructor is what ValidationPipe sees as the metatype.
@Controller('cart')
class CartController {
  @Post()
  @HttpCode(200)
  add(@Session() session: HttpSession<Cart>, @Body() dto: AddItemsDto) {
    session.set('owner', dto.owner);
    session.set('items', (session.get('items') ?? 0) + dto.items);
    // The DTO arrives as an instance: the pipe did transform this parameter.
    return { id: session.id, items: session.get('items'), dtoIsInstance: dto instanceof AddItemsDto };
  }

  @Get()
  peek(@Session({ create: false }) session: HttpSession<Cart> | undefined) {
    return { exists: session !== undefined, items: session?.get('items') ?? null };
  }

  @Get('strict')
  strict(@Session({ create: false }) session?: HttpSession<Cart>) {
    return { exists: session !== undefined, isSession: session instanceof HttpSession };
  }
}

describe.each<Platform>(['express', 'fastify'])('@Session() under a global ValidationPipe (transform, validateCustomDecorators) on %s', (platform) => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({
      imports: [EnableRedisHttpSession.forRoot({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('validation-pipe') })],
      controllers: [CartController],
    })
    class ValidationPipeModule {}
    app = await NestFactory.create(ValidationPipeModule, (platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()) as never, {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    app.useGlobalPipes(new ValidationPipe({ transform: true, validateCustomDecorators: true }));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(() => app?.close());

  it('@Session() gives the live session: what the handler sets is stored and read back', async () => {
    const client = new CookieClient(url);
    const first = await client.post('/cart', { owner: 'ada', items: 2 });
    expect(first).toMatchObject({ status: 200, body: { items: 2, dtoIsInstance: true } });
    expect(client.cookies.get('SESSION')).toBeDefined();
    const second = await client.post('/cart', { owner: 'ada', items: 3 });
    expect(second.body).toMatchObject({ id: first.body.id, items: 5 });
    expect((await client.get('/cart')).body).toEqual({ exists: true, items: 5 });
    expect((await client.get('/cart/strict')).body).toEqual({ exists: true, isSession: true });
  });

  it('@Session({ create: false }) gives undefined without a session, and creates none', async () => {
    const client = new CookieClient(url);
    const peek = await client.get('/cart');
    expect(peek).toMatchObject({ status: 200, body: { exists: false, items: null } });
    expect(client.lastSetCookies).toEqual([]);
    expect((await client.get('/cart/strict')).body).toEqual({ exists: false, isSession: false });
  });

  it('the pipe is active: an invalid body is still refused with 400', async () => {
    const client = new CookieClient(url);
    const refused = await client.post('/cart', { owner: 'ada', items: 0 });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toEqual(['items must not be less than 1']);
  });
});
