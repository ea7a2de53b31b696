import { afterAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { EnableRedisHttpSession, InMemorySessionRepository, type SessionModuleOptions } from 'nestjs-redis-session';
import { sessionRedisOption, sessionRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { CookieClient } from './client.js';
import { startFixtureApp, startFixtureAppWith, type Platform } from './fixture-app.js';

const SESSION_CONFIG = Symbol('SESSION_CONFIG');

/** Stands for the app's own configuration module (e.g. @nestjs/config). */
@Module({ providers: [{ provide: SESSION_CONFIG, useFactory: () => ({ url: sessionRedisUrl(), namespace: uniqueNamespace('async') }) }], exports: [SESSION_CONFIG] })
class AppConfigModule {}

@Injectable()
class SessionOptionsFromClass {
  create(): SessionModuleOptions {
    return { redis: sessionRedisOption(), redisNamespace: uniqueNamespace('async-class') };
  }
}

/** Bad options, and the option the start-up error must name. */
const invalidOptions: [string, SessionModuleOptions][] = [
  ['redisNamespace', { redisNamespace: '' }],
  ['redisNamespace', { redisNamespace: 'has space' }],
  ['flushMode', { flushMode: 'NOPE' as never }],
  ['saveMode', { saveMode: 'sometimes' as never }],
  ['redis.port', { redis: { port: -1 } }],
  ['redis', { redis: 'localhost:6379' }],
  ['maxInactiveIntervalInSeconds', { maxInactiveIntervalInSeconds: 1.5 }],
  ['maxInactiveIntervalInSeconds', { maxInactiveIntervalInSeconds: '1800' as never }],
  ['idResolver', { idResolver: 'query' as never }],
  ['cookie.sameSite', { cookie: { sameSite: 'lax' as never } }],
  ['cookie.sameSite', { cookie: { sameSite: 'None', secure: false } }],
  ['cookie.name', { cookie: { name: 'my session' } }],
  ['cookie.maxAgeSeconds', { cookie: { maxAgeSeconds: -1 } }],
  ['headerName', { headerName: 'X Auth' }],
  ['commandTimeoutMs', { commandTimeoutMs: 0 }],
  ['store', { store: 'disk' as never }],
  ['store', { store: 'mongo' as never }],
  ['store', { store: {} as never }],
  ['store', { store: InMemorySessionRepository as never }], // the class, not an instance
];

describe.each<Platform>(['express', 'fastify'])('module options on %s', (platform) => {
  const apps: INestApplication[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it.each(invalidOptions)('forRoot rejects a bad %s at start-up, naming it', async (option, options) => {
    const start = startFixtureApp(platform, { redis: sessionRedisOption(), ...options }, { logger: false });
    await expect(start).rejects.toThrow(`EnableRedisHttpSession: invalid option "${option}"`);
  });

  it('forRootAsync rejects bad options from its factory the same way', async () => {
    const module = EnableRedisHttpSession.forRootAsync({ useFactory: async () => ({ redis: sessionRedisOption(), maxInactiveIntervalInSeconds: 1.5 }) });
    await expect(startFixtureAppWith(platform, module, { logger: false })).rejects.toThrow('invalid option "maxInactiveIntervalInSeconds"');
  });

  it('forRootAsync({ imports, inject, useFactory }) works end to end', async () => {
    const module = EnableRedisHttpSession.forRootAsync({
      imports: [AppConfigModule],
      inject: [SESSION_CONFIG],
      useFactory: async (config: { url: string; namespace: string }) => ({ redis: config.url, redisNamespace: config.namespace, maxInactiveIntervalInSeconds: 60 }),
    });
    const { app, url } = await startFixtureAppWith(platform, module);
    apps.push(app);
    const client = new CookieClient(url);
    await client.post('/login', { userId: 'async' });
    expect(client.lastSetCookies[0]).toMatch(/^SESSION=/);
    expect(await client.get('/me')).toMatchObject({ status: 200, body: { userId: 'async' } });
    expect((await client.post('/logout')).status).toBe(204);
    expect((await client.get('/me')).status).toBe(401);
  });

  it('forRootAsync({ useClass }) works end to end', async () => {
    const { app, url } = await startFixtureAppWith(platform, EnableRedisHttpSession.forRootAsync({ useClass: SessionOptionsFromClass }));
    apps.push(app);
    const client = new CookieClient(url);
    await client.post('/set', { name: 'from', value: 'class' });
    expect((await client.get('/peek')).body.exists).toBe(true);
  });
});
