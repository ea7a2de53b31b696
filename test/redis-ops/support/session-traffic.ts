/**
 * Steady, bounded traffic over many sessions of the fixture app (test/websocket/fixture-app.ts):
 * each session runs a loop of a write (POST /set n=i) then a read (GET /get) that checks it sees
 * its last acknowledged write. Every request has a client timeout, so a hang shows as 'timeout'.
 */

export type Status = number | 'timeout' | 'network error';

export interface Outcome {
  /** Index of the session in the cookies given. */
  session: number;
  kind: 'write' | 'read';
  status: Status;
  /** When the request started and ended (epoch ms). */
  startedAt: number;
  endedAt: number;
  /** A 200 read that did not see the session's last acknowledged write (nothing lost must mean this never happens). */
  stale?: boolean;
}

export interface TrafficOptions {
  /** Pause between a session's requests. */
  pauseMs?: number;
  /** Client timeout of each request: longer than any server-side deadline, so 'timeout' means a hang. */
  requestTimeoutMs?: number;
  /** The loops stop by themselves after this long, whatever happens. */
  maxDurationMs?: number;
}

/** One request with a cookie and a client timeout; resolves to its status and JSON body (never rejects). */
export async function request(url: string, cookie: string, method: 'GET' | 'POST', body: unknown, timeoutMs: number): Promise<{ status: Status; body: any }> {
  try {
    const response = await fetch(url, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  } catch (error) {
    return { status: (error as Error).name === 'TimeoutError' ? 'timeout' : 'network error', body: undefined };
  }
}

export class SessionTraffic {
  readonly outcomes: Outcome[] = [];
  /** Per session, the value of its last acknowledged (200) write, -1 before any. */
  readonly acknowledged: number[];
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly baseUrl: () => string,
    private readonly cookies: string[],
    private readonly options: TrafficOptions = {},
  ) {
    this.acknowledged = cookies.map(() => -1);
  }

  start(): void {
    this.#running = true;
    const stopAt = Date.now() + (this.options.maxDurationMs ?? 60_000);
    this.#loops = this.cookies.map((_, session) => this.loop(session, stopAt));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Outcomes that are not a fresh 200. */
  failures(filter: (outcome: Outcome) => boolean = () => true): Outcome[] {
    return this.outcomes.filter((outcome) => filter(outcome) && (outcome.status !== 200 || outcome.stale));
  }

  private async loop(session: number, stopAt: number): Promise<void> {
    const { pauseMs = 50, requestTimeoutMs = 5000 } = this.options;
    const cookie = this.cookies[session];
    for (let i = 0; this.#running && Date.now() < stopAt; i++) {
      let startedAt = Date.now();
      const write = await request(`${this.baseUrl()}/set`, cookie, 'POST', { name: 'n', value: i }, requestTimeoutMs);
      if (write.status === 200) this.acknowledged[session] = i;
      this.outcomes.push({ session, kind: 'write', status: write.status, startedAt, endedAt: Date.now() });
      startedAt = Date.now();
      const read = await request(`${this.baseUrl()}/get`, cookie, 'GET', undefined, requestTimeoutMs);
      const seen = read.body?.attributes?.n ?? -1;
      // A write that failed may still have landed: a read may see it or the one before.
      const stale = read.status === 200 && !(seen === this.acknowledged[session] || (write.status !== 200 && seen === i));
      this.outcomes.push({ session, kind: 'read', status: read.status, startedAt, endedAt: Date.now(), ...(stale ? { stale } : {}) });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
