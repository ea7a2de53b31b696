// One Socket.IO server for the WebSocket throughput benchmark, in its own process so that each
// variant gets the same CPU (and one variant's work cannot slow another down).
// Usage: node bench/lib/ws-bench-server.js <bare|raw|session> <port> <redisUrl>
//   bare:    Nest + a gateway on the plain IoAdapter, no session module at all.
//   raw:     the same app with EnableRedisHttpSession.forRoot() (HTTP sessions), gateway on the plain IoAdapter.
//   session: the same app with its gateway on SessionIoAdapter.
// Gateway: 'echo' (answers its payload; never asks for the session), 'whoami' (reads @Session(); session only).
// HTTP: GET /bench/cpu (the process's CPU time so far); with the module: POST /login creates a
// session and sets its cookie. Prints "ready" when listening.
// Plain JavaScript, so the decorators are applied by hand (Reflect.decorate) instead of with `@`.
import 'reflect-metadata';
import { Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { EnableRedisHttpSession, Session, SessionIoAdapter } from 'nestjs-redis-session';
import { decorateMethod } from './decorate.js';

const VARIANTS = ['bare', 'raw', 'session'];
const [variant, port, redisUrl] = process.argv.slice(2);
if (!VARIANTS.includes(variant)) throw new Error(`unknown variant "${variant}": ${VARIANTS.join(', ')}`);
const withModule = variant !== 'bare';

class EchoGateway {
  echo(data) {
    return data;
  }

  whoami(session) {
    return { id: session?.id ?? null };
  }
}
decorateMethod(EchoGateway, 'echo', [SubscribeMessage('echo')], [MessageBody()]);
if (variant === 'session') decorateMethod(EchoGateway, 'whoami', [SubscribeMessage('whoami')], [Session()]);
Reflect.decorate([WebSocketGateway()], EchoGateway);

class LoginController {
  login(session) {
    session.set('user', 'bench');
    return { id: session.id };
  }
}
decorateMethod(LoginController, 'login', [Post('login'), HttpCode(200)], [Session()]);
Reflect.decorate([Controller()], LoginController);

/** The server's CPU time so far: the driver takes CPU per message from it, steadier than throughput on a busy machine. */
class CpuController {
  cpu() {
    const { user, system } = process.cpuUsage();
    return { micros: user + system };
  }
}
decorateMethod(CpuController, 'cpu', [Get('bench/cpu')]);
Reflect.decorate([Controller()], CpuController);

class BenchModule {}
Reflect.decorate(
  [
    Module({
      imports: withModule
        ? [
            EnableRedisHttpSession.forRoot({
              redis: redisUrl,
              redisNamespace: 'bench:ws',
              maxInactiveIntervalInSeconds: 1800,
              // Raised and slowed under callgrind (bench/lib/callgrind.js); the library's defaults otherwise.
              ...(process.env.COMMAND_TIMEOUT_MS && { commandTimeoutMs: Number(process.env.COMMAND_TIMEOUT_MS) }),
              ...(process.env.SWEEP_MS && { sweepIntervalMs: Number(process.env.SWEEP_MS) }),
            }),
          ]
        : [],
      controllers: withModule ? [LoginController, CpuController] : [CpuController],
      providers: [EchoGateway],
    }),
  ],
  BenchModule,
);

const app = await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: ['error', 'warn'] });
app.useWebSocketAdapter(variant === 'session' ? new SessionIoAdapter(app) : new IoAdapter(app));
await app.listen(Number(port), '127.0.0.1');
// A clean exit on SIGTERM, so that `--cpu-prof` writes its profile.
process.once('SIGTERM', () => {
  app.close().finally(() => process.exit(0));
});
console.log('ready');
