import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { EnableRedisHttpSession, SessionRepository } from 'nestjs-redis-session';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';

describe('smoke', () => {
  it('stores and loads a session through the module', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EnableRedisHttpSession.forRoot({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace() })],
    }).compile();
    await moduleRef.init();
    const repo = moduleRef.get(SessionRepository);
    const s = repo.createSession();
    s.set('a', { b: 1 });
    expect(await repo.save(s)).toBe(true);
    const loaded = await repo.findById(s.id);
    expect(loaded?.get('a')).toEqual({ b: 1 });
    await moduleRef.close();
  });
});
