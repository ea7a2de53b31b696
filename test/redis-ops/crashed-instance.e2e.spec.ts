import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { io, type Socket } from 'socket.io-client';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniqueNamespace } from '../harness/redis.js';
import { startTcpBalancer, type TcpBalancer } from '../harness/tcp-balancer.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { nextEvent } from '../websocket/socket-client.js';
import { signIn, sleep } from '../websocket/two-instances.js';
import { buildInstance } from './support/build-instance.js';
import { startInstanceProcess, type InstanceProcess } from './support/instance-process.js';
import { request } from './support/session-traffic.js';

const SESSIONS = 6;
const MAX_INACTIVE_SECONDS = 5;
const PAUSE_MS = 100;

/** The browser-side client: through the balancer, the session cookie in the handshake, socket.io-client's own reconnection on. */
function browserSocket(url: string, cookie: string): Socket {
  return io(url, { transports: ['websocket'], extraHeaders: { cookie }, forceNew: true, reconnectionDelayMax: 1000 });
}

/**
 * Two app instances, each a process of its own, behind a TCP load balancer; instance A is
 * SIGKILLed under traffic. Its sockets' clients reconnect by themselves, through the balancer, to
 * B under the same session; nothing acknowledged is lost; B carries on with expiry and logout.
 */
describe('an app instance crashing (SIGKILL) behind a load balancer', () => {
  let redis: RedisServer;
  let build: Awaited<ReturnType<typeof buildInstance>>;
  let a: InstanceProcess;
  let b: InstanceProcess;
  let balancer: TcpBalancer;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  const sockets: Socket[] = [];
  /** Ends the test's traffic loops (also when the test failed midway). */
  let stopTraffic = async () => {};

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    redis = await startRedisServer();
    build = await buildInstance();
    const env = { REDIS_URL: redis.url, SESSION_NAMESPACE: uniqueNamespace('crash'), MAX_INACTIVE_SECONDS: String(MAX_INACTIVE_SECONDS) };
    [a, b] = await Promise.all([startInstanceProcess(build.main, env), startInstanceProcess(build.main, env)]);
    balancer = await startTcpBalancer([{ port: a.port }, { port: b.port }]);
  }, 60_000);

  afterAll(async () => {
    await stopTraffic();
    for (const socket of sockets) socket.close();
    await balancer?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    await build?.remove();
    rejections?.stop();
  });

  it('A\'s clients reconnect to B under the same session, nothing is lost, and B expires and logs out their sessions', async () => {
    const users = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => signIn(balancer.url, `user-${i}`)));
    // One socket per session, opened one after the other: the balancer alternates them between A and B.
    for (const user of users) {
      const socket = browserSocket(balancer.url, user.cookie);
      sockets.push(socket);
      await nextEvent(socket, 'connect');
    }
    expect(balancer.accepted.every((count) => count >= SESSIONS / 2)).toBe(true);

    // Steady traffic: each session writes a new attribute over HTTP and another over its socket,
    // each time; every acknowledged write is remembered.
    const acknowledged = users.map(() => new Set<string>());
    const http: { session: number; startedAt: number; status: unknown }[] = [];
    const quiet = new Set<number>(); // sessions left idle from now on
    let running = true;
    const loops = users.map(async (user, session) => {
      for (let i = 0; running && i < 2000; i++) {
        if (quiet.has(session)) return;
        const startedAt = Date.now();
        const write = await request(`${balancer.url}/set`, user.cookie, 'POST', { name: `http${i}`, value: i }, 3000);
        http.push({ session, startedAt, status: write.status });
        if (write.status === 200) acknowledged[session].add(`http${i}`);
        const socket = sockets[session];
        if (socket.connected && !quiet.has(session)) {
          const ack = await socket.timeout(2000).emitWithAck('write', { name: `socket${i}`, value: i }).catch(() => undefined);
          if (ack?.ok === true) acknowledged[session].add(`socket${i}`);
        }
        await sleep(PAUSE_MS);
      }
    });
    stopTraffic = async () => {
      running = false;
      await Promise.all(loops);
    };
    await sleep(1500);

    // When each socket dropped and came back (socket.io-client's manager reconnecting by itself).
    const droppedAt: number[] = [];
    const reconnectedAt: number[] = [];
    sockets.forEach((socket, i) => {
      socket.once('disconnect', () => (droppedAt[i] = Date.now()));
      socket.io.once('reconnect', () => (reconnectedAt[i] = Date.now()));
    });
    const acceptedByB = balancer.accepted[1];
    const refusedByA = balancer.refused[0];
    // SIGKILL A, and prove it is gone.
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    expect(() => process.kill(a.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await sleep(300); // the balancer drops A's connections as soon as the kernel closes them
    const onA = sockets.flatMap((_, i) => (droppedAt[i] === undefined ? [] : [i]));
    expect(onA.length).toBeGreaterThan(0);
    expect(onA.length).toBeLessThan(SESSIONS);
    const [idle, loggingOut] = onA.length >= 2 ? onA : [onA[0], undefined];
    quiet.add(idle);
    const writtenThroughA = onA.map((session) => [...acknowledged[session]].filter((name) => name.startsWith('socket')).length);
    expect(writtenThroughA.every((count) => count > 0)).toBe(true);

    // A's clients reconnect by themselves, through the balancer (A refuses, B accepts), to the same session: no new login.
    await Promise.all(onA.map((session) => (sockets[session].connected ? undefined : nextEvent(sockets[session], 'connect', 10_000))));
    const reconnectedWithin = Math.max(...onA.map((session) => reconnectedAt[session])) - killedAt;
    expect(onA.every((session) => reconnectedAt[session] > droppedAt[session])).toBe(true);
    // B's sockets never noticed.
    expect(sockets.every((socket, i) => onA.includes(i) || (socket.connected && droppedAt[i] === undefined))).toBe(true);
    expect(balancer.accepted[1] - acceptedByB).toBeGreaterThanOrEqual(onA.length);
    expect(balancer.refused[0]).toBeGreaterThan(refusedByA);
    for (const session of onA) {
      expect(await sockets[session].timeout(2000).emitWithAck('whoami')).toEqual({ sessionId: users[session].sessionId, userId: `user-${session}` });
    }

    await sleep(2000);
    await stopTraffic();

    // HTTP with the same cookies kept working on B once A's connections were gone.
    const afterCrash = http.filter((exchange) => exchange.startedAt > killedAt + 500);
    expect(afterCrash.length).toBeGreaterThan(SESSIONS);
    expect(afterCrash.filter((exchange) => exchange.status !== 200)).toEqual([]);
    // Every acknowledged write, through A or B, over HTTP or a socket, is there, read on B.
    for (const [session, user] of users.entries()) {
      const { status, body } = await request(`${balancer.url}/get`, user.cookie, 'GET', undefined, 3000);
      expect(status).toBe(200);
      const missing = [...acknowledged[session]].filter((name) => !(name in (body?.attributes ?? {})));
      expect({ session, missing }).toEqual({ session, missing: [] });
    }

    // A logout on B closes the reconnected socket of that session (before it idles out: traffic has stopped).
    if (loggingOut !== undefined) {
      const deleted = nextEvent(sockets[loggingOut], 'session:destroyed', 5000);
      const deletedClosed = nextEvent<string>(sockets[loggingOut], 'disconnect', 5000);
      expect((await request(`${balancer.url}/logout`, users[loggingOut].cookie, 'POST', {}, 3000)).status).toBe(204);
      expect(await deleted).toEqual({ reason: 'deleted' });
      expect(await deletedClosed).toBe('io server disconnect');
    }
    // B reports the idle session's expiry to its socket, now on B, and closes it.
    const expired = nextEvent(sockets[idle], 'session:destroyed', (MAX_INACTIVE_SECONDS + 5) * 1000);
    const expiredClosed = nextEvent<string>(sockets[idle], 'disconnect', (MAX_INACTIVE_SECONDS + 6) * 1000);
    expect(await expired).toEqual({ reason: 'expired' });
    expect(await expiredClosed).toBe('io server disconnect');
    expect((await request(`${balancer.url}/get`, users[idle].cookie, 'GET', undefined, 3000)).body).toMatchObject({ exists: false });

    process.stdout.write(
      `killed A (pid ${a.pid}) with ${onA.length} of ${SESSIONS} sockets; they reconnected to B within ${reconnectedWithin} ms; ` +
        `${http.length} HTTP writes (${afterCrash.length} after the crash, all 200), ` +
        `${acknowledged.reduce((sum, names) => sum + names.size, 0)} acknowledged writes (${writtenThroughA.reduce((x, y) => x + y, 0)} over sockets on A), none lost\n`,
    );
    expect(rejections.reasons).toEqual([]);
  }, 60_000);
});
