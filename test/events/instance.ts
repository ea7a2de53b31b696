import type { ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { EnableRedisHttpSession, SessionEvents, SessionRepository, type SessionEvent, type SessionModuleOptions } from 'nestjs-redis-session';

/** One app instance of the module, recording every SessionEvent it sees with the time it arrived. */
export interface Instance {
  readonly moduleRef: TestingModule;
  readonly repository: SessionRepository;
  readonly seen: ReadonlyArray<SessionEvent & { at: number }>;
  /** Resolves with the first event (already seen or still to come) matching; rejects after timeoutMs. */
  waitFor(match: (event: SessionEvent) => boolean, timeoutMs: number): Promise<SessionEvent & { at: number }>;
  /** The events seen so far for one session, of one type. */
  count(sessionId: string, type: SessionEvent['type']): number;
  close(): Promise<void>;
}

export async function startInstance(options: SessionModuleOptions, imports: ModuleMetadata['imports'] = []): Promise<Instance> {
  const moduleRef = await Test.createTestingModule({ imports: [EnableRedisHttpSession.forRoot(options), ...imports] }).compile();
  await moduleRef.init();
  const seen: (SessionEvent & { at: number })[] = [];
  const waiters = new Set<() => void>();
  moduleRef.get(SessionEvents).subscribe((event) => {
    seen.push({ ...event, at: Date.now() });
    for (const wake of waiters) wake();
  });
  let closed = false;
  return {
    moduleRef,
    repository: moduleRef.get(SessionRepository),
    seen,
    waitFor(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = seen.find(match);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    count: (sessionId, type) => seen.filter((event) => event.sessionId === sessionId && event.type === type).length,
    async close() {
      if (closed) return;
      closed = true;
      await moduleRef.close();
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A session stored with these attributes and idle interval; resolves with it and the time just before it was created. */
export async function storeSession(repository: SessionRepository, attributes: Record<string, unknown> = { a: 1 }, intervalSeconds?: number) {
  const createdAt = Date.now();
  const session = repository.createSession();
  if (intervalSeconds !== undefined) session.maxInactiveIntervalInSeconds = intervalSeconds;
  for (const [name, value] of Object.entries(attributes)) session.set(name, value);
  if (!(await repository.save(session))) throw new Error('session was not saved');
  return { session, createdAt };
}
