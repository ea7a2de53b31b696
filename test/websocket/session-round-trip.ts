import { expect } from '@jest/globals';
import { connectSocket, nextEvent } from './socket-client.js';
import { signIn } from './two-instances.js';

/**
 * The whole path on one fixture app (startWsFixtureApp), for suites that vary the Redis under it
 * (ACL users, TLS): login, a write and a read over HTTP, a read over a socket, and logout closing
 * that socket.
 */
export async function expectLoginWriteReadLogout(url: string): Promise<void> {
  const user = await signIn(url, 'ada');
  expect((await user.http.post('/set', { name: 'colour', value: 'green' })).status).toBe(200);
  expect((await user.http.get('/get')).body).toMatchObject({ exists: true, attributes: { userId: 'ada', colour: 'green' } });
  const socket = await connectSocket(url, { cookie: user.cookie });
  expect(await socket.emitWithAck('read', 'colour')).toEqual({ value: 'green' });
  const destroyed = nextEvent(socket, 'session:destroyed', 5000);
  expect((await user.http.post('/logout')).status).toBe(204);
  expect(await destroyed).toEqual({ reason: 'deleted' });
  expect((await user.http.get('/get')).body).toMatchObject({ exists: false });
}

/** Idle expiry on the same app closes a socket of the session, and the session is gone over HTTP. */
export async function expectIdleExpiryClosesSocket(url: string, idleSeconds: number): Promise<void> {
  const user = await signIn(url, 'grace');
  const socket = await connectSocket(url, { cookie: user.cookie });
  expect(await nextEvent(socket, 'session:destroyed', (idleSeconds + 5) * 1000)).toEqual({ reason: 'expired' });
  expect((await user.http.get('/get')).body).toMatchObject({ exists: false });
}
