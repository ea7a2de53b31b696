import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket, nextEvent } from './socket-client.js';
import { closeAll, sameUserOn, signIn, sleep, startTwoInstances, type Instance } from './two-instances.js';

/** A session idle for its whole max-inactive interval ends, and its sockets on every instance are closed promptly. */
describe('Idle expiry closes the sockets of a session on every instance', () => {
  const INTERVAL_MS = 2000;
  const SWEEP_MS = 200;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    ({ a, b } = await startTwoInstances({
      redis: sessionRedisOption(),
      redisNamespace: uniqueNamespace('ws-idle'),
      maxInactiveIntervalInSeconds: INTERVAL_MS / 1000,
      sweepIntervalMs: SWEEP_MS,
    }));
  });

  afterAll(() => closeAll(a, b));

  it('sends session:destroyed {reason: expired} and disconnects within 1.5 s of the deadline, not before it', async () => {
    const user = await signIn(a.url);
    // Loads touch at most once per touch interval (capped at a third of the session's, here 667 ms), so
    // wait that out: the handshakes' loads then touch, and the deadline counts from a touch made between
    // the first handshake's start and the last one's connect.
    await sleep(INTERVAL_MS / 3 + 100);
    const handshakesStarted = Date.now();
    const onA = await connectSocket(a.url, { cookie: user.cookie });
    const onB = await connectSocket(b.url, { cookie: user.cookie });
    const lastConnected = Date.now();

    const ended = [onA, onB].map(async (socket) => {
      const destroyed = nextEvent(socket, 'session:destroyed', 10_000);
      const disconnected = nextEvent<string>(socket, 'disconnect', 10_000);
      return { payload: await destroyed, reason: await disconnected, at: Date.now() };
    });
    for (const { payload, reason, at } of await Promise.all(ended)) {
      expect(payload).toEqual({ reason: 'expired' });
      expect(reason).toBe('io server disconnect');
      expect(at).toBeGreaterThanOrEqual(handshakesStarted + INTERVAL_MS);
      expect(at).toBeLessThanOrEqual(lastConnected + INTERVAL_MS + 1500);
    }
    // Over HTTP, on either instance, the session is gone too.
    expect((await sameUserOn(b.url, user.http).get('/get')).body).toMatchObject({ exists: false });
  });
});
