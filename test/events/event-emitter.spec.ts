import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import type { SessionEvent } from 'nestjs-redis-session';
import { sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { sleep, startInstance, storeSession, type Instance } from './instance.js';

/** What an app writes: plain @OnEvent handlers, no dependency on the session module's API. */
@Injectable()
class SessionAudit {
  readonly received: { name: string; event: SessionEvent }[] = [];

  @OnEvent('session.created')
  created(event: SessionEvent) {
    this.received.push({ name: 'session.created', event });
  }

  @OnEvent('session.deleted')
  deleted(event: SessionEvent) {
    this.received.push({ name: 'session.deleted', event });
  }

  @OnEvent('session.expired')
  expired(event: SessionEvent) {
    this.received.push({ name: 'session.expired', event });
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe.each([
  ['redis', () => ({ redis: sharedRedisUrl(), redisNamespace: uniqueNamespace('emitter') })],
  ['memory', () => ({ store: 'memory' as const })],
])('@nestjs/event-emitter integration (%s store)', (_store, options) => {
  let app: Instance;
  let audit: SessionAudit;

  beforeAll(async () => {
    app = await startInstance(options(), [EventEmitterModule.forRoot(), { module: class AuditModule {}, providers: [SessionAudit] }]);
    audit = app.moduleRef.get(SessionAudit);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('emits session.created, session.deleted and session.expired on EventEmitter2', async () => {
    const { session: deleted } = await storeSession(app.repository);
    await deleted.invalidate();
    const { session: expired } = await storeSession(app.repository, { a: 1 }, 1);
    await until(() => audit.received.some((r) => r.name === 'session.expired' && r.event.sessionId === expired.id), 5000);
    const names = (id: string) => audit.received.filter((r) => r.event.sessionId === id).map((r) => r.name);
    expect(names(deleted.id)).toEqual(['session.created', 'session.deleted']);
    expect(names(expired.id)).toEqual(['session.created', 'session.expired']);
    expect(audit.received.find((r) => r.name === 'session.expired')!.event).toMatchObject({ type: 'expired', sessionId: expired.id });
  });
});

describe('without EventEmitterModule', () => {
  it('starts and delivers SessionEvents as usual', async () => {
    const app = await startInstance({ redis: sharedRedisUrl(), redisNamespace: uniqueNamespace('noemitter') });
    try {
      const { session } = await storeSession(app.repository);
      await app.waitFor((e) => e.sessionId === session.id && e.type === 'created', 2000);
    } finally {
      await app.close();
    }
  });
});
