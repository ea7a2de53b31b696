import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io-client';
import { sessionRedisOption, uniqueNamespace } from '../../harness/redis.js';
import { connectSocket } from '../socket-client.js';
import { closeAll, signIn, startTwoInstances, type Instance } from '../two-instances.js';

/**
 * Run by shutdown.e2e.spec.ts in a jest of its own (not matched by the suite's testMatch): two
 * instances with sockets still open, and messages in flight, when the apps close. The client
 * sockets are deliberately left open: the servers must end them. That jest must exit by itself.
 */
let a: Instance;
let b: Instance;
const sockets: Socket[] = [];

beforeAll(async () => {
  ({ a, b } = await startTwoInstances({ redis: sessionRedisOption(), redisNamespace: uniqueNamespace('ws-close'), websocket: { touchIntervalSeconds: 1 } }));
});

afterAll(async () => {
  for (const socket of sockets) socket.emit('echo', 'in flight at close'); // no ack awaited
  await closeAll(a, b);
});

it('opens sockets on both instances and both namespaces', async () => {
  const user = await signIn(a.url);
  for (const url of [a.url, b.url]) {
    sockets.push(await connectSocket(url, { cookie: user.cookie }));
    sockets.push(await connectSocket(url, { cookie: user.cookie, namespace: '/other' }));
  }
  expect(await sockets[0].emitWithAck('read', 'userId')).toEqual({ value: 'u1' });
});
