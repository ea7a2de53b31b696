import { describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import { EnableRedisHttpSession, getSocketSession, HttpSession, Session, SessionIoAdapter, type SessionModuleOptions } from 'nestjs-redis-session';
import type { Socket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { CookieClient } from '../http/client.js';
import { RecordingLogger } from './recording-logger.js';
import { eventually } from '../harness/eventually.js';

const FIX = 'app.useWebSocketAdapter(new SessionIoAdapter(app))';

@WebSocketGateway()
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

@Controller()
class PlainController {
  @Get('plain')
  plain() {
    return { ok: true };
  }
}

type AdapterChoice = 'session' | 'plain' | 'none';

async function start(withGateway: boolean, adapter: AdapterChoice, options: SessionModuleOptions = {}): Promise<{ app: INestApplication; logger: RecordingLogger }> {
  const logger = new RecordingLogger();
  const module = {
    module: class CheckAppModule {},
    imports: [EnableRedisHttpSession.forRoot({ store: 'memory', ...options })],
    controllers: [PlainController],
    providers: withGateway ? [EchoGateway] : [],
  };
  const app = await NestFactory.create(module, new ExpressAdapter(), { logger, abortOnError: false });
  if (adapter === 'session') app.useWebSocketAdapter(new SessionIoAdapter(app));
  if (adapter === 'plain') app.useWebSocketAdapter(new IoAdapter(app));
  try {
    await app.init();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return { app, logger };
}

const missingAdapterErrors = (logger: RecordingLogger) => logger.errors.filter((line) => line.includes(FIX));

describe('gateways without the session adapter', () => {
  it.each<[string, AdapterChoice]>([
    ['no adapter (Nest falls back to a plain IoAdapter)', 'none'],
    ['a plain IoAdapter', 'plain'],
  ])('%s: one error at start-up names the gateway and the missing line', async (_label, adapter) => {
    const { app, logger } = await start(true, adapter);
    try {
      expect(missingAdapterErrors(logger)).toHaveLength(1);
      expect(missingAdapterErrors(logger)[0]).toContain('EchoGateway');
    } finally {
      await app.close();
    }
  });

  it('with websocket.requireAdapter: start-up fails with that error', async () => {
    await expect(start(true, 'none', { websocket: { requireAdapter: true } })).rejects.toThrow(FIX);
  });

  it.each<[string, boolean, AdapterChoice, SessionModuleOptions]>([
    ['with SessionIoAdapter', true, 'session', {}],
    ['with SessionIoAdapter and requireAdapter', true, 'session', { websocket: { requireAdapter: true } }],
    ['an HTTP-only app', false, 'none', { websocket: { requireAdapter: true } }],
  ])('%s: no error, and it starts', async (_label, withGateway, adapter, options) => {
    const { app, logger } = await start(withGateway, adapter, options);
    try {
      expect(missingAdapterErrors(logger)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

/** A gateway that greets and says goodbye by name: @Session() cannot reach handleConnection, getSocketSession() can. */
@WebSocketGateway()
class PresenceGateway implements OnGatewayConnection, OnGatewayDisconnect {
  readonly departed: (string | null)[] = [];

  async handleConnection(socket: Socket) {
    const session = await getSocketSession<{ username: string }>(socket);
    socket.emit('welcome', { username: session?.get('username') ?? null, sessionId: session?.id ?? null });
  }

  async handleDisconnect(socket: Socket) {
    const session = await getSocketSession<{ username: string }>(socket);
    this.departed.push(session?.get('username') ?? null);
  }

  @SubscribeMessage('rename')
  rename(@Session() session: HttpSession<{ username: string }>, @MessageBody() username: string) {
    session.set('username', username);
    return { ok: true };
  }
}

@Controller()
class LoginController {
  @Get('login')
  login(@Session() session: HttpSession<{ username: string }>) {
    session.set('username', 'ada');
    return { ok: true };
  }
}

describe('getSocketSession() in handleConnection and handleDisconnect', () => {
  async function startPresence(requireSession: boolean, adapter: boolean): Promise<{ app: INestApplication; url: string }> {
    const module = {
      module: class PresenceAppModule {},
      imports: [EnableRedisHttpSession.forRoot({ store: 'memory', websocket: { requireSession } })],
      controllers: [LoginController],
      providers: [PresenceGateway],
    };
    const app = await NestFactory.create(module, new ExpressAdapter(), { logger: false });
    if (adapter) app.useWebSocketAdapter(new SessionIoAdapter(app));
    await app.listen(0, '127.0.0.1');
    return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
  }

  /** Listens for the welcome before connecting: it can arrive in the same packet batch as the connection itself. */
  function welcomed(url: string, cookie?: string) {
    const socket = io(url, { transports: ['websocket'], extraHeaders: cookie ? { cookie } : {}, reconnection: false, forceNew: true });
    return new Promise<{ socket: ClientSocket; welcome: { username: string | null; sessionId: string | null } }>((resolve, reject) => {
      socket.once('welcome', (welcome) => resolve({ socket, welcome }));
      socket.once('connect_error', reject);
    });
  }

  it('gives the socket\'s live session, as it is now: changes made over the socket are seen at disconnect', async () => {
    const { app, url } = await startPresence(true, true);
    try {
      const user = new CookieClient(url);
      await user.get('/login');
      const cookie = `SESSION=${user.cookies.get('SESSION')}`;
      const { socket, welcome } = await welcomed(url, cookie);
      expect(welcome.username).toBe('ada');
      expect(welcome.sessionId).toEqual(expect.any(String));
      expect(await socket.emitWithAck('rename', 'grace')).toEqual({ ok: true });
      socket.disconnect();
      const gateway = app.get(PresenceGateway);
      await eventually(() => expect(gateway.departed).toEqual(['grace']));
    } finally {
      await app.close();
    }
  });

  it('gives undefined for a socket admitted without a session', async () => {
    const { app, url } = await startPresence(false, true);
    try {
      const { socket, welcome } = await welcomed(url);
      expect(welcome).toEqual({ username: null, sessionId: null });
      socket.disconnect();
    } finally {
      await app.close();
    }
  });

  it('rejects with the missing line when the session adapter is not installed', async () => {
    const socket = { data: {} } as Socket;
    await expect(getSocketSession(socket)).rejects.toThrow(FIX);
  });
});
