import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sessionRedisOption, uniqueNamespace } from '../harness/redis.js';
import { connectSocket, firstOf } from './socket-client.js';
import { closeAll, sameUserOn, signIn, sleep, startTwoInstances, type Instance } from './two-instances.js';

/** Socket traffic alone (a handler that never asks for the session) keeps the HTTP session alive. */
describe('Chatting keeps the session alive', () => {
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    // Default touch interval (5 s): longer than the session's 2 s, so the library must touch more often than that.
    ({ a, b } = await startTwoInstances({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('ws-alive'), maxInactiveIntervalInSeconds: 2 }));
  });

  afterAll(() => closeAll(a, b));

  it('a message every 500 ms for 6 s (three max-inactive intervals): still connected, and HTTP on the other instance sees the same session', async () => {
    const user = await signIn(a.url, 'chatter');
    await user.http.post('/set', { name: 'colour', value: 'blue' });
    const socket = await connectSocket(a.url, { cookie: user.cookie });
    const ended = firstOf(socket, ['session:destroyed', 'disconnect'], 7000);

    const started = Date.now();
    for (let i = 0; Date.now() - started < 6000 && i < 20; i++) {
      expect(await socket.timeout(3000).emitWithAck('echo', { n: i })).toEqual({ n: i });
      await sleep(500);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(6000);

    expect(socket.connected).toBe(true);
    const response = await sameUserOn(b.url, user.http).get('/get');
    expect(response.body).toEqual({ exists: true, id: user.sessionId, attributes: { userId: 'chatter', colour: 'blue' } });
    socket.close();
    expect(await ended).toMatchObject({ event: 'disconnect', payload: 'io client disconnect' });
  });
});
