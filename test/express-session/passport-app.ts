import {
  Controller, Get, HttpCode, Injectable, Module, Post, Req, UnauthorizedException, UseGuards,
  type CanActivate, type ExecutionContext, type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportSerializer, PassportStrategy } from '@nestjs/passport';
import { ExpressAdapter } from '@nestjs/platform-express';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Request } from 'express';
import { EnableRedisHttpSession, HttpSession, Session as OurSession, SessionIoAdapter, type SessionModuleOptions } from 'nestjs-redis-session';
import passport from 'passport';
import { Strategy } from 'passport-local';

/** What the app knows of a user: the Nest docs' recipe, with two users. */
const USERS = new Map([
  ['ada', 'lovelace'],
  ['alan', 'turing'],
]);
type User = { username: string };

@Injectable()
class LocalStrategy extends PassportStrategy(Strategy) {
  validate(username: string, password: string): User {
    if (USERS.get(username) !== password) throw new UnauthorizedException();
    return { username };
  }
}

/** Only the username goes into the session (`req.session.passport.user`). */
@Injectable()
class SessionSerializer extends PassportSerializer {
  serializeUser(user: User, done: (error: Error | null, id?: string) => void): void {
    done(null, user.username);
  }

  deserializeUser(username: string, done: (error: Error | null, user?: User | false) => void): void {
    done(null, USERS.has(username) ? { username } : false);
  }
}

/** The Nest docs' LocalAuthGuard: authenticate, then log in (the session). */
@Injectable()
class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    await super.logIn(context.switchToHttp().getRequest());
    return result;
  }
}

@Injectable()
class AuthenticatedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<Request>().isAuthenticated();
  }
}

@Controller()
class AuthController {
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalAuthGuard)
  login(@Req() request: Request) {
    return { user: request.user, sessionID: request.sessionID };
  }

  @Get('profile')
  @UseGuards(AuthenticatedGuard)
  profile(@Req() request: Request) {
    return { user: request.user };
  }

  /** Our own `@Session()` sees the same session Passport wrote to. */
  @Get('raw')
  raw(@OurSession({ create: false }) session?: HttpSession) {
    return { passport: session?.get('passport') ?? null };
  }

  @Post('logout')
  @HttpCode(204)
  logout(@Req() request: Request): Promise<void> {
    return new Promise((resolve, reject) => request.logout((error) => (error ? reject(error) : resolve())));
  }
}

@WebSocketGateway()
class WhoAmIGateway {
  @SubscribeMessage('whoami')
  whoami(@OurSession({ create: false }) session?: HttpSession) {
    return { passport: session?.get('passport') ?? null };
  }
}

@Module({})
class PassportFixtureModule {
  static with(options: SessionModuleOptions) {
    return {
      module: PassportFixtureModule,
      imports: [EnableRedisHttpSession.forRoot({ ...options, expressSessionApi: true }), PassportModule.register({ session: true })],
      controllers: [AuthController],
      providers: [LocalStrategy, SessionSerializer, WhoAmIGateway],
    };
  }
}

/** The Nest + Passport app of the docs, with our sessions in place of express-session. */
export async function startPassportApp(options: SessionModuleOptions): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(PassportFixtureModule.with(options), new ExpressAdapter(), { logger: ['error', 'warn'] });
  app.use(passport.session()); // as the Nest docs do after app.use(session(...)): no session middleware here
  app.useWebSocketAdapter(new SessionIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}
