import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Injectable, Module, Post, Req, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyPassport from '@fastify/passport';
import type { FastifyRequest } from 'fastify';
import { EnableRedisHttpSession, HttpSession, Session as OurSession } from 'nestjs-redis-session';
import { Strategy } from 'passport-local';
import { CookieClient } from '../http/client.js';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';

type User = { username: string };
const USERS = new Map([['ada', 'lovelace']]);

fastifyPassport.use(
  'local',
  new Strategy((username, password, done) => done(null, USERS.get(username) === password ? { username } : false)),
);
fastifyPassport.registerUserSerializer(async (user: User) => user.username);
fastifyPassport.registerUserDeserializer(async (username: string) => (USERS.has(username) ? { username } : null));

@Injectable()
class AuthenticatedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<FastifyRequest>().isAuthenticated();
  }
}

@Controller()
class ProfileController {
  @Get('profile')
  @UseGuards(AuthenticatedGuard)
  profile(@Req() request: FastifyRequest) {
    return { user: request.user };
  }

  @Get('raw')
  raw(@OurSession({ create: false }) session?: HttpSession) {
    return { passport: session?.get('passport') ?? null };
  }

  /** An anonymous visitor's session, as a cart would make it. */
  @Post('visit')
  @HttpCode(200)
  visit(@Req() request: FastifyRequest & { session: Record<string, unknown> }) {
    request.session.visited = true;
    return {};
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() request: FastifyRequest): Promise<void> {
    await request.logOut();
  }
}

@Module({
  imports: [EnableRedisHttpSession.forRoot({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('fastify-passport'), expressSessionApi: true })],
  controllers: [ProfileController],
})
class FastifyPassportModule {}

/** @fastify/passport with passport-local on Nest's Fastify adapter, our request.session in place of @fastify/session. */
describe('@fastify/passport on our sessions (expressSessionApi)', () => {
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(FastifyPassportModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
    await app.register(fastifyPassport.initialize());
    await app.register(fastifyPassport.secureSession());
    // @fastify/passport's login is a Fastify preValidation hook: the route is the plugin's own, beside Nest's.
    app.getHttpAdapter().getInstance().post('/login', { preValidation: fastifyPassport.authenticate('local', { authInfo: false }) }, async (request: FastifyRequest) => ({ user: request.user }));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(() => app?.close());

  it('logs in with a new session id, serves a guarded route, logs out', async () => {
    const user = new CookieClient(url);
    expect((await user.get('/profile')).status).toBe(403);
    expect((await user.post('/login', { username: 'ada', password: 'nope' })).status).toBe(401);
    await user.post('/visit');
    const before = user.cookies.get('SESSION')!;
    const login = await user.post('/login', { username: 'ada', password: 'lovelace' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ user: { username: 'ada' } });
    // A new id at login (session fixation): the id held before names nothing.
    expect(user.cookies.get('SESSION')).not.toBe(before);
    const planted = new CookieClient(url);
    planted.cookies.set('SESSION', before);
    expect((await planted.get('/raw')).body).toEqual({ passport: null });
    expect((await user.get('/profile')).body).toEqual({ user: { username: 'ada' } });
    expect((await user.get('/raw')).body).toEqual({ passport: 'ada' });

    expect((await user.post('/logout')).status).toBe(204);
    expect((await user.get('/profile')).status).toBe(403);
  });
});
