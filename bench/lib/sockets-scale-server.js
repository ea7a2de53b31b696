// One instance for the sockets-at-scale benchmark (bench/sockets-scale.js), in its own process so
// that its memory is its own. Usage: node --expose-gc bench/lib/sockets-scale-server.js <port> <redisUrl>
// HTTP: POST /login (a session with one attribute, its cookie), GET /bench/stats (memory after a
// full GC, CPU so far, sockets and sessions the registry holds, session events seen).
// Gateway: 'chat' (answers its payload, never asks for the session: a steady chat), 'expire-at'
// (@Session(): sets the session's idle interval so that it ends in the second that starts at
// `at`; answers the deadline). Prints "ready" when listening.
// Plain JavaScript, so the decorators are applied by hand (Reflect.decorate) instead of with `@`.
import 'reflect-metadata';
import { Controller, Get, HttpCode, Module, NotFoundException, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { EnableRedisHttpSession, Session, SessionEvents, SessionIoAdapter, WebSocketRegistryListener } from 'nestjs-redis-session';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { decorateMethod } from './decorate.js';

const [port, redisUrl, snapshotDir] = process.argv.slice(2);
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

class ChatGateway {
  chat(data) {
    return data;
  }

  expireAt(session, body) {
    // Idle intervals are whole seconds from the last access: the deadline falls in [at, at + 1 s).
    session.maxInactiveIntervalInSeconds = Math.max(1, Math.ceil((body.at - session.lastAccessedTime) / 1000));
    return { deadline: session.lastAccessedTime + session.maxInactiveIntervalInSeconds * 1000 };
  }
}
decorateMethod(ChatGateway, 'chat', [SubscribeMessage('chat')], [MessageBody()]);
decorateMethod(ChatGateway, 'expireAt', [SubscribeMessage('expire-at')], [Session(), MessageBody()]);
Reflect.decorate([WebSocketGateway()], ChatGateway);

class BenchController {
  constructor(registry, events) {
    this.registry = registry;
    this.counts = { created: 0, deleted: 0, expired: 0 };
    events.subscribe((event) => {
      if (event.type in this.counts) this.counts[event.type]++;
    });
  }

  login(session) {
    session.set('user', 'bench');
    return { id: session.id };
  }

  stats() {
    globalThis.gc();
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const { user, system } = process.cpuUsage();
    return { rss, heapUsed, external, arrayBuffers, cpuMicros: user + system, sessionsWithSockets: this.registry.sessionCount, events: this.counts };
  }

  heapSnapshot(label) {
    // Only when asked for on the command line; the label is the bench's own, kept to a file name.
    if (snapshotDir === undefined || !/^[\w-]+$/.test(label)) throw new NotFoundException();
    globalThis.gc();
    return { file: writeHeapSnapshot(join(snapshotDir, `${label}.heapsnapshot`)) };
  }
}
Reflect.decorate([Reflect.metadata('design:paramtypes', [WebSocketRegistryListener, SessionEvents])], BenchController);
decorateMethod(BenchController, 'login', [Post('login'), HttpCode(200)], [Session()]);
decorateMethod(BenchController, 'stats', [Get('bench/stats')]);
decorateMethod(BenchController, 'heapSnapshot', [Post('bench/heap-snapshot/:label'), HttpCode(200)], [Param('label')]);
Reflect.decorate([Controller()], BenchController);

class BenchModule {}
Reflect.decorate(
  [
    Module({
      imports: [EnableRedisHttpSession.forRoot({ redis: redisUrl, redisNamespace: 'scale', maxInactiveIntervalInSeconds: 3600 })],
      controllers: [BenchController],
      providers: [ChatGateway],
    }),
  ],
  BenchModule,
);

const app = await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: ['error', 'warn'] });
app.useWebSocketAdapter(new SessionIoAdapter(app));
app.enableShutdownHooks();
await app.listen(Number(port), '127.0.0.1');
console.log('ready');
