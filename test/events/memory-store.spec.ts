import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PRINCIPAL_NAME_INDEX_NAME } from 'nestjs-redis-session';
import { sleep, startInstance, storeSession, type Instance } from './instance.js';

describe('events of the in-memory store', () => {
  let app: Instance;

  beforeAll(async () => {
    app = await startInstance({ store: 'memory' });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('created and deleted, with the principal name', async () => {
    const { session } = await storeSession(app.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'erin' });
    await app.waitFor((e) => e.sessionId === session.id && e.type === 'created', 1000);
    await session.invalidate();
    const deleted = await app.waitFor((e) => e.sessionId === session.id && e.type === 'deleted', 1000);
    expect(deleted.principalName).toBe('erin');
  });

  it('expired fires from a timer, once, without any read of the session', async () => {
    const { session, createdAt } = await storeSession(app.repository, { [PRINCIPAL_NAME_INDEX_NAME]: 'frank' }, 1);
    const expired = await app.waitFor((e) => e.sessionId === session.id && e.type === 'expired', 3000);
    expect(expired.at).toBeGreaterThanOrEqual(createdAt + 1000);
    expect(expired.principalName).toBe('frank');
    await sleep(300);
    expect(app.count(session.id, 'expired')).toBe(1);
    expect(await app.repository.findByPrincipalName('frank')).toEqual([]);
  });

  it('a session in use is not expired by its first timer', async () => {
    const { session } = await storeSession(app.repository, { a: 1 }, 1);
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      expect(await app.repository.findById(session.id)).toBeDefined();
    }
    expect(app.count(session.id, 'expired')).toBe(0);
  });
});
