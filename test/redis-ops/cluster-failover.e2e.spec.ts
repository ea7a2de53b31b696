import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PRINCIPAL_NAME_INDEX_NAME, SessionEvents, SessionRepository, type HttpSession, type SessionEvent } from 'nestjs-redis-session';
import { startRedisCluster, type RedisCluster } from '../harness/redis-cluster.js';
import { uniqueNamespace } from '../harness/redis.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';
import { signIn, sleep } from '../websocket/two-instances.js';
import { request, SessionTraffic } from './support/session-traffic.js';

const run = promisify(execFile);
const SESSIONS = 60;
/**
 * The default deadline. With 1 s, one full run saw the survivors' requests in flight at the kill
 * all take 1.9 s (nothing else ran beside the suite; the cause was not found, alone or beside two
 * busy cores the spec passed) and answer 503: the default leaves that margin.
 */
const COMMAND_TIMEOUT_MS = 2000;
const SHARDS = 16;

/**
 * A master of a 3-master + 3-replica Cluster SIGKILLed under steady traffic over many sessions
 * (each a loop of write then read). Sessions on the other masters never notice; the dead master's
 * get 503 (never 500, never a hang) until its replica is promoted, then work again; and expiry
 * and keyspace events keep coming for the promoted slots.
 */
describe('a Redis Cluster master killed under traffic', () => {
  const namespace = uniqueNamespace('failover');
  const sessionKey = (id: string) => `${namespace}:sessions:{${id}}`;
  let cluster: RedisCluster;
  let app: INestApplication;
  let url: string;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  const events: SessionEvent[] = [];

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    // No notify-keyspace-events here: the library must switch them on, on the promoted replica too.
    // cluster-require-full-coverage no: by default, once the dead master is marked failed, every node
    // refuses every query (CLUSTERDOWN) until its replica is promoted, the survivors' slots included.
    cluster = await startRedisCluster({ masters: 3, replicas: 1, args: ['--cluster-require-full-coverage', 'no'] });
    ({ app, url } = await startWsFixtureApp({ redis: { cluster: cluster.nodes }, redisNamespace: namespace, commandTimeoutMs: COMMAND_TIMEOUT_MS, sweepIntervalMs: 100 }));
    app.get(SessionEvents).subscribe((event) => events.push(event));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
    rejections?.stop();
  });

  const eventFor = async (id: string, type: SessionEvent['type'], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!events.some((event) => event.sessionId === id && event.type === type) && Date.now() < deadline) await sleep(50);
    return events.filter((event) => event.sessionId === id && event.type === type).length;
  };

  it('the survivors\' sessions never fail, the dead master\'s get 503 until the promotion, and events go on', async () => {
    const users = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => signIn(url, `user-${i}`)));
    const victim = await cluster.masterOfSlot(0);
    const owners = await Promise.all(users.map((user) => cluster.masterOf(sessionKey(user.sessionId))));
    const onVictim = new Set(users.flatMap((_, i) => (owners[i] === victim ? [i] : [])));
    const shardOwners = await Promise.all(Array.from({ length: SHARDS }, (_, shard) => cluster.masterOf(`${namespace}:expirations:{${shard}}`)));
    const shardOf = (id: string) => id.charCodeAt(0) % SHARDS;
    expect(onVictim.size).toBeGreaterThan(0);
    expect(onVictim.size).toBeLessThan(SESSIONS);

    // A principal change also writes the principal's index and the session's expiry shard: one
    // survivor session whose shard is on the victim, one whose shard and index are elsewhere.
    const survivorsIndexed = users.map((user, i) => ({ user, i })).filter(({ i }) => !onVictim.has(i));
    const shardOnVictim = survivorsIndexed.find(({ user }) => shardOwners[shardOf(user.sessionId)] === victim);
    const shardElsewhere = survivorsIndexed.find(({ user }) => shardOwners[shardOf(user.sessionId)] !== victim);
    let principalElsewhere = '';
    for (let n = 0; principalElsewhere === ''; n++) {
      const name = `principal-${n}`;
      if ((await cluster.masterOf(`${namespace}:index:${PRINCIPAL_NAME_INDEX_NAME}:${name}`)) !== victim) principalElsewhere = name;
    }
    expect(shardOnVictim && shardElsewhere).toBeTruthy();
    const setPrincipal = (cookie: string) =>
      request(`${url}/set`, cookie, 'POST', { name: PRINCIPAL_NAME_INDEX_NAME, value: principalElsewhere }, 5000);

    const traffic = new SessionTraffic(() => url, users.map((user) => user.cookie), { pauseMs: 20 });
    traffic.start();
    await sleep(1500);

    const killedAt = Date.now();
    await cluster.killNode(victim);
    // The kill happened: the victim's port refuses connections.
    await expect(run('redis-cli', ['-p', String(victim), 'ping'], { timeout: 2000 })).rejects.toThrow();
    const [withShardDown, withIndexesUp] = await Promise.all([setPrincipal(shardOnVictim!.user.cookie), setPrincipal(shardElsewhere!.user.cookie)]);
    const principalRequestsEnded = Date.now();

    let promotedAt = 0;
    let promoted = victim;
    while (promoted === victim && Date.now() < killedAt + 20_000) {
      promoted = await cluster.masterOfSlot(0).catch(() => victim);
      if (promoted === victim) await sleep(100);
      else promotedAt = Date.now();
    }
    expect(promoted).not.toBe(victim);
    // Long enough for every session on the promoted slots to have been served again several times.
    await sleep(3000);
    await traffic.stop();

    // Sessions whose slots are on the surviving masters: not one failure, through the whole failover.
    expect(traffic.failures((outcome) => !onVictim.has(outcome.session))).toEqual([]);
    // The dead master's sessions: the failover was felt (503s), only as 503s, and they were served again.
    const victimFailures = traffic.failures((outcome) => onVictim.has(outcome.session));
    expect(victimFailures.length).toBeGreaterThan(0);
    expect(victimFailures.filter((outcome) => outcome.status !== 503 || outcome.stale)).toEqual([]);
    const lastFailureEnded = Math.max(...victimFailures.map((outcome) => outcome.endedAt));
    for (const session of onVictim) {
      const served = traffic.outcomes.filter((outcome) => outcome.session === session && outcome.startedAt > lastFailureEnded);
      expect({ session, servedAgain: served.length > 2 && served.every((outcome) => outcome.status === 200) }).toEqual({ session, servedAgain: true });
    }
    // A write that files a session in an index on the dead master fails with it, although the
    // session's own slot is up; one whose slots are all up does not. Retried after the promotion, it works.
    expect(principalRequestsEnded).toBeLessThan(promotedAt);
    expect([withShardDown.status, withIndexesUp.status]).toEqual([503, 200]);
    expect((await setPrincipal(shardOnVictim!.user.cookie)).status).toBe(200);
    const filed = (await app.get(SessionRepository).findByPrincipalName(principalElsewhere)).map((session) => session.id).sort();
    expect(filed).toEqual([shardOnVictim!.user.sessionId, shardElsewhere!.user.sessionId].sort());

    const failedFor = lastFailureEnded - killedAt;
    process.stdout.write(
      `killed master ${victim} (${onVictim.size} of ${SESSIONS} sessions); replica ${promoted} promoted ${promotedAt - killedAt} ms after the kill; ` +
        `${traffic.outcomes.length} requests, survivors 0 failed, the victim's ${victimFailures.length} x 503 within ${failedFor} ms of the kill\n`,
    );

    // After the promotion, for sessions in the promoted slots: an idle one expires and is told...
    const repository = app.get(SessionRepository);
    let idle: HttpSession | undefined;
    for (let attempt = 0; attempt < 200 && idle === undefined; attempt++) {
      const session = repository.createSession();
      if ((await cluster.masterOf(sessionKey(session.id))) === promoted && shardOwners[shardOf(session.id)] === victim) idle = session;
    }
    if (idle === undefined) throw new Error('no session id in a promoted slot and shard within 200 tries');
    idle.maxInactiveIntervalInSeconds = 1;
    expect(await repository.save(idle)).toBe(true);
    expect(await eventFor(idle.id, 'expired', 10_000)).toBe(1);
    // ...and a key deleted behind the library's back is seen by the promoted node's keyspace notifications.
    const dropped = users[[...onVictim][0]].sessionId;
    expect(await run('redis-cli', ['-p', String(promoted), 'del', sessionKey(dropped)])).toMatchObject({ stdout: '1\n' });
    expect(await eventFor(dropped, 'deleted', 5000)).toBe(1);
    expect(rejections.reasons).toEqual([]);
  }, 90_000);
});
