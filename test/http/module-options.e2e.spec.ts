import { afterAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { EnableRedisHttpSession, InMemorySessionRepository, FlushMode, SaveMode, SESSION_OPTIONS, SessionOptionsError, type ResolvedSessionOptions, type SessionModuleOptions } from 'nestjs-redis-session';
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

/** Provides a given FakeConfigService, as ConfigModule.forRoot() provides ConfigService. */
@Module({})
class ConfigModuleLike {
  static with(config: FakeConfigService): DynamicModule {
    return { module: ConfigModuleLike, providers: [{ provide: FakeConfigService, useValue: config }], exports: [FakeConfigService] };
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

/** Misspelt option names at each level, and the message that must name them and the valid one. */
const misspeltOptions: [string, Record<string, unknown>, string][] = [
  ['top level', { maxInactiveInterval: 60 }, 'unknown option "maxInactiveInterval" (did you mean "maxInactiveIntervalInSeconds"?)'],
  ['top level, a case slip', { redisnamespace: 'x' }, 'unknown option "redisnamespace" (did you mean "redisNamespace"?)'],
  ['cookie', { cookie: { maxAge: 60 } }, 'unknown option "cookie.maxAge" (did you mean "cookie.maxAgeSeconds"?)'],
  ['cookie, a typo', { cookie: { smaeSite: 'Lax' } }, 'unknown option "cookie.smaeSite" (did you mean "cookie.sameSite"?)'],
  ['websocket', { websocket: { allowedOrigin: ['https://a.example'] } }, 'unknown option "websocket.allowedOrigin" (did you mean "websocket.allowedOrigins"?)'],
  ['a name like none', { colour: 'blue' }, 'unknown option "colour"'],
];

/** Stands for @nestjs/config's ConfigService: options come from a config file, as plain strings. */
@Injectable()
class FakeConfigService {
  readonly #values: Record<string, unknown>;
  constructor(values: Record<string, unknown>) {
    this.#values = values;
  }
  get<T>(key: string): T {
    return this.#values[key] as T;
  }
}

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

  it.each(misspeltOptions)('forRoot refuses a misspelt option name (%s), naming the nearest valid one', async (_level, options, message) => {
    const start = startFixtureApp(platform, { redis: sessionRedisOption(), ...options } as SessionModuleOptions, { logger: false });
    await expect(start).rejects.toThrow(SessionOptionsError);
    await expect(startFixtureApp(platform, { redis: sessionRedisOption(), ...options } as SessionModuleOptions, { logger: false })).rejects.toThrow(
      `EnableRedisHttpSession: ${message}`,
    );
  });

  it.each(misspeltOptions)('forRootAsync refuses a misspelt option name (%s) from a config-service factory', async (_level, options, message) => {
    const config = new FakeConfigService({ session: { redis: sessionRedisOption(), ...options } });
    const module = EnableRedisHttpSession.forRootAsync({
      imports: [ConfigModuleLike.with(config)],
      inject: [FakeConfigService],
      useFactory: (service: FakeConfigService) => service.get<SessionModuleOptions>('session'),
    });
    await expect(startFixtureAppWith(platform, module, { logger: false })).rejects.toThrow(`EnableRedisHttpSession: ${message}`);
  });

  it('forRoot({ isGlobal }) and a redis option of ioredis keys are not refused', async () => {
    // ioredis' own options are its to check: these keys are unknown to us and must pass.
    const option = sessionRedisOption();
    const redis = typeof option === 'string' ? { host: new URL(option).hostname, port: Number(new URL(option).port), connectionName: 'strict', lazyConnect: false } : option;
    const { app, url } = await startFixtureAppWith(platform, EnableRedisHttpSession.forRoot({ isGlobal: true, redis, redisNamespace: uniqueNamespace('strict') }));
    apps.push(app);
    const client = new CookieClient(url);
    await client.post('/set', { name: 'a', value: 1 });
    expect((await client.get('/peek')).body.exists).toBe(true);
  });

  it("flushMode and saveMode as the enums' strings (as a config file gives them) take effect", async () => {
    const config = new FakeConfigService({ flushMode: 'IMMEDIATE', saveMode: 'ALWAYS' });
    const module = EnableRedisHttpSession.forRootAsync({
      imports: [ConfigModuleLike.with(config)],
      inject: [FakeConfigService],
      useFactory: (service: FakeConfigService) => ({
        redis: sessionRedisOption(),
        redisNamespace: uniqueNamespace('strings'),
        flushMode: service.get<'IMMEDIATE'>('flushMode'),
        saveMode: service.get<'ALWAYS'>('saveMode'),
      }),
    });
    const { app } = await startFixtureAppWith(platform, module);
    apps.push(app);
    const options = app.get(SESSION_OPTIONS) as ResolvedSessionOptions;
    expect({ flushMode: options.flushMode, saveMode: options.saveMode }).toEqual({ flushMode: FlushMode.IMMEDIATE, saveMode: SaveMode.ALWAYS });
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
