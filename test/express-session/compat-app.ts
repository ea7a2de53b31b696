import { Body, Controller, Get, HttpCode, Module, Post, Req, Session as NestSession, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import flash from 'connect-flash';
import { csrfSync } from 'csrf-sync';
import express, { type Request } from 'express';
import { EnableRedisHttpSession, type SessionModuleOptions } from 'nestjs-redis-session';

/** csrf-sync as its docs set it up, reading the token of a form field (or a header, for fetch). */
const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (request) => (request.body as { _csrf?: string } | undefined)?._csrf ?? (request.headers['x-csrf-token'] as string | undefined),
});

type Bag = Record<string, unknown>;
const sessionOf = (request: Request) => request.session as unknown as Bag & Request['session'];
const callback = (run: (done: (error?: unknown) => void) => void) => new Promise<void>((resolve, reject) => run((error) => (error ? reject(error) : resolve())));

@Controller()
class CompatController {
  @Get('csrf')
  token(@Req() request: Request) {
    return { token: generateToken(request) };
  }

  /** The form csrf-sync protects. */
  @Post('form')
  @HttpCode(200)
  form() {
    return { accepted: true };
  }

  /** A login as csrf-sync's docs want it: a new session (id and token). */
  @Post('login')
  @HttpCode(200)
  async login(@Req() request: Request, @Body() body: { user: string }) {
    await callback((done) => request.session.regenerate(done));
    sessionOf(request).user = body.user;
    return { token: generateToken(request, true), sessionID: request.sessionID };
  }

  @Post('flash')
  @HttpCode(200)
  addFlash(@Req() request: Request, @Body() body: { message: string }) {
    return { queued: request.flash('info', body.message) };
  }

  @Get('flash')
  readFlash(@Req() request: Request) {
    return { messages: request.flash('info') };
  }

  @Post('attr')
  @HttpCode(200)
  setAttribute(@Req() request: Request, @Body() body: { name: string; value: unknown }) {
    try {
      if (body.value === null) delete sessionOf(request)[body.name];
      else sessionOf(request)[body.name] = body.value;
      return { ok: true };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  /** Assigns a value JSON cannot hold: the error says so at once. */
  @Post('bad')
  @HttpCode(200)
  setBad(@Req() request: Request) {
    try {
      sessionOf(request).fn = () => 1;
      return { error: null };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  @Post('push')
  @HttpCode(200)
  push(@Req() request: Request, @Body() body: { item: string }) {
    const session = sessionOf(request);
    if (!Array.isArray(session.list)) session.list = [];
    (session.list as string[]).push(body.item); // changed in place, as apps do
    return { list: session.list };
  }

  /** The session as express-session's users look at it: spread, keys, `in`. */
  @Get('attrs')
  attributes(@Req() request: Request) {
    const session = sessionOf(request);
    return { spread: { ...session }, keys: Object.keys(session), hasUser: 'user' in session, sessionID: request.sessionID, id: session.id };
  }

  /** Nest's own @Session() (from @nestjs/common) is `req.session`. */
  @Get('nest-session')
  nestSession(@NestSession() session: Bag) {
    return { user: session.user ?? null };
  }

  @Post('save')
  @HttpCode(200)
  async save(@Req() request: Request, @Body() body: { name: string; value: unknown }) {
    sessionOf(request)[body.name] = body.value;
    await callback((done) => request.session.save(done));
    return { saved: true };
  }

  @Post('reload')
  @HttpCode(200)
  async reload(@Req() request: Request) {
    await callback((done) => request.session.reload(done));
    return { spread: { ...sessionOf(request) } };
  }

  @Post('destroy')
  @HttpCode(204)
  async destroy(@Req() request: Request) {
    await callback((done) => request.session.destroy(done));
  }
}

@Module({})
class CompatModule {
  static with(options: SessionModuleOptions) {
    return { module: CompatModule, imports: [EnableRedisHttpSession.forRoot({ ...options, expressSessionApi: true })], controllers: [CompatController] };
  }
}

/** A Nest app with csrf-sync and connect-flash mounted as their docs say, on our sessions. */
export async function startCompatApp(options: SessionModuleOptions): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(CompatModule.with(options), new ExpressAdapter(), { logger: ['error', 'warn'], abortOnError: false });
  app.use(express.urlencoded({ extended: false }), express.json());
  app.use(flash());
  app.use('/form', csrfSynchronisedProtection); // the one protected route here, so the other tests need no token
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}
