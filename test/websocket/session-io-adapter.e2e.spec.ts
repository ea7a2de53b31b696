import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from '../http/client.js';
import { startWsFixtureApp } from './fixture-app.js';
import { connectSocket, nextEvent } from './socket-client.js';

describe('SessionIoAdapter across two instances', () => {
  const namespace = uniqueNamespace('ws');
  let a: { app: INestApplication; url: string };
  let b: { app: INestApplication; url: string };

  beforeAll(async () => {
    const options = { redis: sessionRedisOption(), redisNamespace: namespace, maxInactiveIntervalInSeconds: 60 };
    a = await startWsFixtureApp(options);
    b = await startWsFixtureApp(options);
  });

  afterAll(async () => {
    await a.app.close();
    await b.app.close();
  });

  async function loggedIn(url: string): Promise<CookieClient> {
    const client = new CookieClient(url);
    await client.post('/login', { userId: 'u1' });
    return client;
  }

  it('logout over HTTP on B closes the socket on A with session:destroyed {reason: deleted}', async () => {
    const http = await loggedIn(a.url);
    const socket = await connectSocket(a.url, { cookie: `SESSION=${http.cookies.get('SESSION')}` });
    const destroyed = nextEvent(socket, 'session:destroyed');
    const disconnected = nextEvent(socket, 'disconnect');
    const httpOnB = new CookieClient(b.url);
    httpOnB.cookies.set('SESSION', http.cookies.get('SESSION')!);
    const started = Date.now();
    await httpOnB.post('/logout');
    expect(await destroyed).toEqual({ reason: 'deleted' });
    await disconnected;
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('a gateway handler sees HTTP changes made after the socket connected, and its own changes reach HTTP', async () => {
    const http = await loggedIn(a.url);
    const socket = await connectSocket(a.url, { cookie: `SESSION=${http.cookies.get('SESSION')}` });
    await http.post('/set', { name: 'colour', value: 'blue' });
    expect(await socket.emitWithAck('read', 'colour')).toEqual({ value: 'blue' });
    expect(await socket.emitWithAck('write', { name: 'fromSocket', value: 42 })).toEqual({ ok: true });
    expect((await http.get('/get')).body.attributes).toMatchObject({ colour: 'blue', fromSocket: 42 });
    socket.close();
  });

  it('refuses a foreign origin and a handshake without a session, with clear connect_errors', async () => {
    const http = await loggedIn(a.url);
    await expect(connectSocket(a.url, { cookie: `SESSION=${http.cookies.get('SESSION')}`, origin: 'https://evil.example' })).rejects.toMatchObject({
      message: expect.stringMatching(/Origin https:\/\/evil.example is not allowed/),
      data: { code: 'ORIGIN_NOT_ALLOWED' },
    });
    await expect(connectSocket(a.url)).rejects.toMatchObject({ message: expect.stringMatching(/session is required/), data: { code: 'SESSION_REQUIRED' } });
  });
});
