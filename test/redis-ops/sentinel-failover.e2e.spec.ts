import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { SessionModuleOptions } from 'nestjs-redis-session';
import type { Socket } from 'socket.io-client';
import { eventually } from '../harness/eventually.js';
import { startRedisSentinel, type RedisSentinel } from '../harness/redis-sentinel.js';
import { uniqueNamespace } from '../harness/redis.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { connectSocket, firstOf, nextEvent } from '../websocket/socket-client.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';
import { closeAll, signIn, sleep, startTwoInstances, type Instance } from '../websocket/two-instances.js';

const DOWN_AFTER_MS = 1000;
const COMMAND_TIMEOUT_MS = 1000;
/** A request is a load then a save, each with its own deadline; the margin is for a loaded 2-core machine. */
const CLIENT_TIMEOUT_MS = 2 * COMMAND_TIMEOUT_MS + 1500;
const CLIENTS = 4;
const PAUSE_MS = 20;
/** The traffic's hard bound, whatever happens. */
const TRAFFIC_MAX_MS = 25_000;
/** Traffic goes on this long after the sentinels report the new master: the apps' reconnection. */
const AFTER_FAILOVER_MS = 3000;

type Status = number | 'timeout' | 'network error';

interface Exchange {
  kind: 'write' | 'read';
  status: Status;
  start: number;
  end: number;
}

/** One request with a client-side deadline; never throws (a timeout or a network error is a status). */
async function exchange(url: string, method: string, path: string, cookie: string, body?: unknown): Promise<{ status: Status; setSession?: string }> {
  try {
    const response = await fetch(url + path, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    const setSession = response.headers
      .getSetCookie()
      .map((line) => /^SESSION=([^;]*)/.exec(line)?.[1])
      .find((value) => value !== undefined);
    return { status: response.status, setSession };
  } catch (error) {
    return { status: (error as Error).name === 'TimeoutError' ? 'timeout' : 'network error' };
  }
}

const sessionIdOf = (cookie: string) => Buffer.from(cookie.replace(/^SESSION=/, ''), 'base64').toString('utf8');

interface Scenario {
  label: string;
  replicas: number;
  waitForReplicas?: SessionModuleOptions['waitForReplicas'];
}

/**
 * A Sentinel failover under traffic (the primary SIGKILLed), run without and with waitForReplicas.
 * With it, the deployment has two replicas: the promoted one then still has a replica to wait for.
 */
describe.each<Scenario>([
  { label: 'asynchronous replication (no waitForReplicas)', replicas: 1 },
  { label: 'waitForReplicas { replicas: 1, timeoutMs: 500 }', replicas: 2, waitForReplicas: { replicas: 1, timeoutMs: 500 } },
])('Sentinel failover, $label', ({ label, replicas, waitForReplicas }) => {
  const namespace = uniqueNamespace('sentinel');
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  let deployment: RedisSentinel;
  let a: Instance;
  let b: Instance;
  /** The same deployment and namespace, with a 2 s idle interval: its sessions are the idle-expiry ones. */
  let shortLived: Instance;
  let before: { cookie: string; onA: Socket; onB: Socket };
  const exchanges: Exchange[] = [];
  /** Writes answered 200: the session they were made on, and the attribute they set. */
  const acknowledged: { sessionId: string; n: number }[] = [];
  let killedAt = 0;
  let failedOverAt = 0;
  let newMasterPort = 0;
  let newMaster: Redis | undefined;

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    deployment = await startRedisSentinel({ replicas, downAfterMs: DOWN_AFTER_MS });
    const options: SessionModuleOptions = {
      redis: { sentinels: deployment.sentinels, name: deployment.name },
      redisNamespace: namespace,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      sweepIntervalMs: 200,
      waitForReplicas,
    };
    ({ a, b } = await startTwoInstances(options));
    shortLived = await startWsFixtureApp({ ...options, maxInactiveIntervalInSeconds: 2 });
    const user = await signIn(a.url, 'before');
    before = { cookie: user.cookie, onA: await connectSocket(a.url, { cookie: user.cookie }), onB: await connectSocket(b.url, { cookie: user.cookie }) };
  }, 60_000);

  afterAll(async () => {
    rejections?.stop();
    for (const socket of [before?.onA, before?.onB]) socket?.close();
    await closeAll(a, b, shortLived);
    newMaster?.disconnect();
    await deployment?.stop();
  });

  it('answers every request with 200 or 503 through the failover, in bounded time, and the failover happened', async () => {
    // Off on every replica: after the switch, only the library's CONFIG SET on reconnect can turn them on.
    for (const replica of deployment.replicas) {
      const client = new Redis(replica.port, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await client.config('SET', 'notify-keyspace-events', '');
      client.disconnect();
    }
    const cookies = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => signIn(i % 2 === 0 ? a.url : b.url, `load-${i}`).then((user) => user.cookie)));
    const started = Date.now();
    let stopAt = started + TRAFFIC_MAX_MS;
    const client = async (i: number) => {
      const url = i % 2 === 0 ? a.url : b.url;
      let cookie = cookies[i];
      for (let n = 1; Date.now() < stopAt && Date.now() - started < TRAFFIC_MAX_MS; n++) {
        for (const kind of ['write', 'read'] as const) {
          const start = Date.now();
          const { status, setSession } =
            kind === 'write' ? await exchange(url, 'POST', '/set', cookie, { name: `w${n}`, value: n }) : await exchange(url, 'GET', '/get', cookie);
          // A session lost in the switch is replaced by a new one, under a new cookie.
          if (setSession) cookie = `SESSION=${setSession}`;
          exchanges.push({ kind, status, start, end: Date.now() });
          if (kind === 'write' && status === 200) acknowledged.push({ sessionId: sessionIdOf(cookie), n });
        }
        await sleep(PAUSE_MS);
      }
    };
    const traffic = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    await sleep(500);
    killedAt = Date.now();
    deployment.killPrimary();
    try {
      newMasterPort = await deployment.waitForFailover(15_000);
      failedOverAt = Date.now();
    } finally {
      stopAt = Math.min(stopAt, Date.now() + AFTER_FAILOVER_MS);
      await traffic;
    }

    // The path: the sentinels moved the master to a former replica. On a loaded machine the one
    // promoted first can miss their 1-s down-after window and be failed over in turn (seen once
    // in CI): the checks below are made on the master they keep.
    newMasterPort = await deployment.waitForFailover(15_000, 2000);
    expect(deployment.replicas.map((replica) => replica.port)).toContain(newMasterPort);
    expect(await deployment.masterPorts()).toEqual([newMasterPort, newMasterPort, newMasterPort]);
    newMaster = new Redis(newMasterPort, { maxRetriesPerRequest: 1 });
    expect(await newMaster.role()).toContainEqual('master');

    const statuses = [...new Set(exchanges.map((e) => e.status))];
    const unavailable = exchanges.filter((e) => e.status === 503);
    const window = unavailable.length === 0 ? 0 : Math.max(...unavailable.map((e) => e.end)) - Math.min(...unavailable.map((e) => e.start));
    const slowest = Math.max(...exchanges.map((e) => e.end - e.start));
    console.log(
      `[sentinel failover, ${label}] ${exchanges.length} requests (${acknowledged.length} writes acknowledged), statuses ${JSON.stringify(statuses)}, ` +
        `503s: ${unavailable.length}, 503 window ${window} ms (first 503 ${unavailable.length ? Math.min(...unavailable.map((e) => e.start)) - killedAt : '-'} ms after the kill), ` +
        `sentinels reported the new master ${failedOverAt - killedAt} ms after the kill, slowest request ${slowest} ms`,
    );
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(slowest).toBeLessThan(CLIENT_TIMEOUT_MS);
    // Redis really was away: requests failed, and only after the kill.
    expect(unavailable.length).toBeGreaterThan(0);
    expect(Math.min(...unavailable.map((e) => e.start))).toBeGreaterThanOrEqual(killedAt - CLIENT_TIMEOUT_MS);
    // Down-after, the election and promotion, and the apps' reconnection (at most 1 s apart): generously bounded.
    expect(window).toBeLessThan(DOWN_AFTER_MS + 10_000);
    // Service resumed: the last second of traffic is all 200s.
    const lastSecond = exchanges.filter((e) => e.start > Math.max(...exchanges.map((x) => x.start)) - 1000);
    expect(lastSecond.length).toBeGreaterThan(0);
    expect(lastSecond.every((e) => e.status === 200)).toBe(true);
  }, 60_000);

  it('after the failover: logins work on both instances, and a logout on one closes the sockets on the other', async () => {
    expect(newMasterPort).toBeGreaterThan(0);
    // The sockets opened before the failover are still open: their session lives on.
    expect([before.onA.connected, before.onB.connected]).toEqual([true, true]);
    // Each instance's subscriber (a duplicate of its Sentinel client) followed the sentinels to the new master.
    await eventually(async () => {
      const [, own, , deletions] = (await newMaster!.pubsub('NUMSUB', `${namespace}:event`, '__keyevent@0__:del')) as [string, number, string, number];
      expect({ own, deletions }).toEqual({ own: 3, deletions: 3 }); // A, B and the short-lived instance
    }, 5000);
    const onA = await signIn(a.url, 'after-a');
    const onB = await signIn(b.url, 'after-b');
    expect(await newMaster!.exists(`${namespace}:sessions:{${onA.sessionId}}`, `${namespace}:sessions:{${onB.sessionId}}`)).toBe(2);

    // A's logout reaches B's socket (opened before the switch): B's subscriber is on the new master.
    const closedOnB = nextEvent(before.onB, 'session:destroyed', 5000);
    expect((await exchange(a.url, 'POST', '/logout', before.cookie)).status).toBe(204);
    expect(await closedOnB).toEqual({ reason: 'deleted' });

    // And the other way, for a session made after the switch.
    const socketOnA = await connectSocket(a.url, { cookie: onB.cookie });
    const closedOnA = nextEvent(socketOnA, 'session:destroyed', 5000);
    expect((await exchange(b.url, 'POST', '/logout', onB.cookie)).status).toBe(204);
    expect(await closedOnA).toEqual({ reason: 'deleted' });
  }, 30_000);

  it('after the failover: keyspace notifications are on the new master again, and an external DEL closes the sockets', async () => {
    // Turned off on the replicas before the kill: the library's CONFIG SET on reconnect put them back.
    await eventually(async () => {
      const [, flags] = (await newMaster!.config('GET', 'notify-keyspace-events')) as string[];
      expect(flags).toMatch(/^(?=.*E)(?=.*g)(?=.*x)/);
    }, 5000);
    const user = await signIn(b.url, 'external-del');
    const socket = await connectSocket(a.url, { cookie: user.cookie });
    expect(await firstOf(socket, ['session:destroyed', 'disconnect'], 200)).toBe('nothing');
    const closed = nextEvent(socket, 'session:destroyed', 5000);
    expect(await newMaster!.del(`${namespace}:sessions:{${user.sessionId}}`)).toBe(1);
    expect(await closed).toEqual({ reason: 'deleted' });
  }, 30_000);

  it('after the failover: an idle session expires and its sockets on both instances are closed', async () => {
    expect(newMasterPort).toBeGreaterThan(0);
    const user = await signIn(shortLived.url, 'idle');
    const signedIn = Date.now();
    const sockets = [await connectSocket(a.url, { cookie: user.cookie }), await connectSocket(b.url, { cookie: user.cookie })];
    const ends = sockets.map((socket) => nextEvent(socket, 'session:destroyed', 10_000).then((payload) => ({ payload, at: Date.now() })));
    for (const { payload, at } of await Promise.all(ends)) {
      expect(payload).toEqual({ reason: 'expired' });
      expect(at).toBeGreaterThanOrEqual(signedIn + 2000);
    }
  }, 30_000);

  it('counts the acknowledged writes the failover lost (none with waitForReplicas), with no unhandled rejection', async () => {
    expect(acknowledged.length).toBeGreaterThan(0);
    const sessionIds = [...new Set(acknowledged.map((write) => write.sessionId))];
    const stored = new Map(await Promise.all(sessionIds.map(async (id) => [id, await newMaster!.hgetall(`${namespace}:sessions:{${id}}`)] as const)));
    const lost = acknowledged.filter(({ sessionId, n }) => stored.get(sessionId)?.[`sessionAttr:w${n}`] !== String(n));
    const acknowledgedBeforeKill = exchanges.filter((e) => e.kind === 'write' && e.status === 200 && e.end <= killedAt).length;
    console.log(
      `[sentinel failover, ${label}] acknowledged writes lost: ${lost.length} of ${acknowledged.length} ` +
        `(${acknowledgedBeforeKill} acknowledged before the kill; sessions replaced: ${sessionIds.length - CLIENTS})`,
    );
    if (waitForReplicas) expect(lost).toEqual([]);
    expect(rejections.reasons).toEqual([]);
  });
});
