import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SessionEvents, SessionRepository, type HttpSession, type SessionEvent } from 'nestjs-redis-session';
import { eventually } from '../harness/eventually.js';
import { startRedisCluster, type RedisCluster } from '../harness/redis-cluster.js';
import { uniqueNamespace } from '../harness/redis.js';
import { recordUnhandledRejections } from '../http/host-process.js';
import { startWsFixtureApp } from '../websocket/fixture-app.js';
import { signIn, sleep } from '../websocket/two-instances.js';
import { SessionTraffic } from './support/session-traffic.js';

const run = promisify(execFile);
const SESSIONS = 60;
const MOVED_SLOTS = 2000;

/**
 * A live `redis-cli --cluster reshard` under steady traffic: slots holding sessions, and the slots
 * of expiry-index shards, move from one master to another while requests keep coming. ioredis
 * follows MOVED and ASK; not one request may fail, and expiries of sessions in the moved slots
 * must still be told.
 */
describe('a live reshard of the Redis Cluster under traffic', () => {
  const namespace = uniqueNamespace('reshard');
  let cluster: RedisCluster;
  let app: INestApplication;
  let url: string;
  let rejections: ReturnType<typeof recordUnhandledRejections>;
  const events: SessionEvent[] = [];

  beforeAll(async () => {
    rejections = recordUnhandledRejections();
    cluster = await startRedisCluster({ masters: 3 });
    ({ app, url } = await startWsFixtureApp({ redis: { cluster: cluster.nodes }, redisNamespace: namespace, sweepIntervalMs: 100 }));
    app.get(SessionEvents).subscribe((event) => events.push(event));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
    rejections?.stop();
  });

  it(`moves ${MOVED_SLOTS} slots (sessions and expiry shards among them) with 0 failed requests, and expiry events still arrive`, async () => {
    // redis-cli takes the slots to move from the low end of the source's slots: slot 0's master gives 0..1999.
    const source = await cluster.masterOfSlot(0);
    const target = (await cluster.masterPorts()).find((port) => port !== source)!;
    const users = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => signIn(url, `user-${i}`)));
    const slots = await Promise.all(users.map((user) => cluster.slotOf(`${namespace}:sessions:{${user.sessionId}}`)));
    const moving = users.filter((_, i) => slots[i] < MOVED_SLOTS);
    const movingShards: number[] = [];
    for (let shard = 0; shard < 16; shard++) if ((await cluster.slotOf(`${namespace}:expirations:{${shard}}`)) < MOVED_SLOTS) movingShards.push(shard);
    expect(moving.length).toBeGreaterThan(0);
    expect(movingShards.length).toBeGreaterThan(0);

    const traffic = new SessionTraffic(() => url, users.map((user) => user.cookie), { pauseMs: 20 });
    traffic.start();
    await sleep(1000);
    const started = Date.now();
    const { stdout } = await run(
      'redis-cli',
      ['--cluster', 'reshard', `127.0.0.1:${source}`, '--cluster-from', await cluster.nodeId(source), '--cluster-to', await cluster.nodeId(target),
        '--cluster-slots', String(MOVED_SLOTS), '--cluster-yes'],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const reshardMs = Date.now() - started;
    await sleep(1000);
    await traffic.stop();

    // The reshard happened: every slot below 2000 is now the target's, with the sessions in them
    // (asked once every node has learnt it: the third master hears of it by gossip).
    expect(stdout).toMatch(/Moving slot 1999 from/);
    const check = () => run('redis-cli', ['--cluster', 'check', `127.0.0.1:${source}`], { timeout: 10_000 });
    await eventually(async () => expect((await check()).stdout).toMatch(/All nodes agree about slots configuration/), 15_000, 200);
    expect(await cluster.masterOfSlot(0)).toBe(target);
    expect(await cluster.masterOfSlot(MOVED_SLOTS - 1)).toBe(target);
    expect(await cluster.masterOfSlot(MOVED_SLOTS)).toBe(source);
    for (const user of moving) expect(await cluster.masterOf(`${namespace}:sessions:{${user.sessionId}}`)).toBe(target);

    // Traffic kept flowing during the move, for the moving sessions too, and none of it failed.
    const during = traffic.outcomes.filter((outcome) => outcome.startedAt >= started && outcome.endedAt <= started + reshardMs);
    const movingIndexes = new Set(moving.map((user) => users.indexOf(user)));
    expect(during.filter((outcome) => movingIndexes.has(outcome.session)).length).toBeGreaterThan(moving.length * 4);
    const failed = traffic.failures();
    if (failed.length > 0) {
      // Says at a glance what failed, for which sessions and when, before the full list below.
      const counts: Record<string, number> = {};
      for (const outcome of failed) {
        const kind = `${outcome.kind} ${outcome.status}${outcome.stale ? ' stale' : ''}, ${movingIndexes.has(outcome.session) ? 'moved' : 'staying'} session`;
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      const window = `${failed[0].startedAt - started}..${failed.at(-1)!.endedAt - started} ms of the reshard's ${reshardMs}`;
      process.stdout.write(`${failed.length} of ${traffic.outcomes.length} requests failed (${JSON.stringify(counts)}), ${window}\n`);
    }
    expect(failed).toEqual([]);
    process.stdout.write(
      `reshard of ${MOVED_SLOTS} slots took ${reshardMs} ms; ${traffic.outcomes.length} requests (${during.length} during it), ` +
        `${moving.length} of ${SESSIONS} sessions and shards [${movingShards}] moved, 0 failed\n`,
    );

    // An idle session in a moved slot, filed in a moved shard, expires and its event arrives.
    const repository = app.get(SessionRepository);
    let idle: HttpSession | undefined;
    for (let attempt = 0; attempt < 200 && idle === undefined; attempt++) {
      const session = repository.createSession();
      const slot = await cluster.slotOf(`${namespace}:sessions:{${session.id}}`);
      if (slot < MOVED_SLOTS && movingShards.includes(session.id.charCodeAt(0) % 16)) idle = session;
    }
    if (idle === undefined) throw new Error('no session id in a moved slot and shard within 200 tries');
    idle.maxInactiveIntervalInSeconds = 1;
    expect(await repository.save(idle)).toBe(true);
    const savedAt = Date.now();
    const deadline = savedAt + 10_000;
    while (!events.some((event) => event.sessionId === idle.id && event.type === 'expired') && Date.now() < deadline) await sleep(50);
    expect(events.filter((event) => event.sessionId === idle.id).map((event) => event.type)).toEqual(['created', 'expired']);
    expect(Date.now() - savedAt).toBeGreaterThanOrEqual(1000);
    expect(rejections.reasons).toEqual([]);
  }, 90_000);
});
