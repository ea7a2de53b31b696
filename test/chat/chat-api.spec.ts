import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isValidSessionId } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { connectSocket, nextEvent } from '../websocket/socket-client.js';
import { startChat, stopChats, type ChatInstance } from './chat-instance.js';
import { RecordedSocket } from './recorded-socket.js';

// The HTTP and socket API that docs/chat-app.md promises, without a browser.
describe('chat app API', () => {
  let chat: ChatInstance;

  beforeAll(async () => {
    chat = await startChat();
  });

  afterAll(async () => {
    await stopChats(chat);
  });

  async function signedIn(username: string, headers?: Record<string, string>): Promise<{ http: CookieClient; cookie: string }> {
    const http = new CookieClient(chat.url);
    expect((await http.post('/api/login', { username }, headers)).status).toBe(200);
    return { http, cookie: `SESSION=${http.cookies.get('SESSION')}` };
  }

  /** The session id behind a client's cookie (the cookie is the id in base64). */
  function sessionIdOf(http: CookieClient): string {
    const id = Buffer.from(http.cookies.get('SESSION')!, 'base64').toString('utf8');
    expect(isValidSessionId(id)).toBe(true);
    return id;
  }

  function expectNoSessionIds(body: unknown, ...clients: CookieClient[]): void {
    const json = JSON.stringify(body);
    for (const http of clients) {
      expect(json).not.toContain(sessionIdOf(http));
      expect(json).not.toContain(http.cookies.get('SESSION'));
    }
  }

  it('login trims and validates the name, with a clear 400', async () => {
    const http = new CookieClient(chat.url);
    expect(await http.post('/api/login', { username: '  Ada  ' })).toMatchObject({ status: 200, body: { username: 'Ada' } });
    for (const [username, message] of [
      ['   ', /must not be empty/],
      ['x'.repeat(33), /at most 32 characters/],
      [42, /username is required/],
      [undefined, /username is required/],
    ] as const) {
      const response = await new CookieClient(chat.url).post('/api/login', { username });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(message);
    }
    expect((await new CookieClient(chat.url).post('/api/login', { username: 'x'.repeat(32) })).status).toBe(200);
  });

  it('me answers 401 before login and after logout; login gives a new session id each time (fixation)', async () => {
    const http = new CookieClient(chat.url);
    expect((await http.get('/api/me')).status).toBe(401);
    await http.post('/api/login', { username: 'Ada' });
    const firstCookie = http.cookies.get('SESSION')!;
    expect(await http.get('/api/me')).toMatchObject({ status: 200, body: { username: 'Ada' } });

    await http.post('/api/login', { username: 'Ada Lovelace' });
    expect(http.cookies.get('SESSION')).not.toBe(firstCookie);
    expect(await http.get('/api/me')).toMatchObject({ status: 200, body: { username: 'Ada Lovelace' } });
    const stale = new CookieClient(chat.url);
    stale.cookies.set('SESSION', firstCookie);
    expect((await stale.get('/api/me')).status).toBe(401);

    expect((await http.post('/api/logout')).status).toBe(204);
    expect((await http.get('/api/me')).status).toBe(401);
  });

  it('behind a TLS-terminating proxy (TRUST_PROXY) the session cookie is Secure', async () => {
    const proxied = await startChat({ trustProxy: 1 });
    try {
      const http = new CookieClient(proxied.url);
      await http.post('/api/login', { username: 'Ada' }, { 'x-forwarded-proto': 'https' });
      expect(http.lastSetCookies.join()).toMatch(/^SESSION=[^;]+;.*\bSecure\b/);
    } finally {
      await stopChats(proxied);
    }
  });

  it('a socket needs a signed-in session', async () => {
    await expect(connectSocket(chat.url)).rejects.toMatchObject({ data: { code: 'SESSION_REQUIRED' } });
  });

  it('messages are acknowledged and broadcast with who and when; empty or over-long ones are refused', async () => {
    const ada = await signedIn('Ada');
    const grace = await signedIn('Grace');
    const adaSocket = await connectSocket(chat.url, { cookie: ada.cookie });
    const graceSocket = await connectSocket(chat.url, { cookie: grace.cookie });
    try {
      const received = nextEvent<{ username: string; text: string; at: string }>(graceSocket, 'message');
      expect(await adaSocket.emitWithAck('message', { text: '  hello  ' })).toEqual({ ok: true });
      const message = await received;
      expect(message).toEqual({ username: 'Ada', text: 'hello', at: expect.any(String) });
      expect(Math.abs(Date.parse(message.at) - Date.now())).toBeLessThan(10_000);

      expect(await adaSocket.emitWithAck('message', { text: ' \n ' })).toEqual({ error: 'The message is empty' });
      expect(await adaSocket.emitWithAck('message', { text: 'x'.repeat(2001) })).toEqual({ error: expect.stringMatching(/too long: 2001 characters, at most 2000/) });
      expect(await adaSocket.emitWithAck('message', 'not an object')).toEqual({ error: expect.stringMatching(/text is missing/) });
      expect(await adaSocket.emitWithAck('message', { text: 'x'.repeat(2000) })).toEqual({ ok: true });
    } finally {
      adaSocket.close();
      graceSocket.close();
    }
  });

  it('a page that connects gets the recent history, and presence lists each user once across tabs', async () => {
    const linus = await signedIn('Linus');
    const tab1 = await RecordedSocket.connect(chat.url, linus.cookie);
    const tab2 = await RecordedSocket.connect(chat.url, linus.cookie);
    try {
      const history = await tab2.waitFor<{ text: string }[]>('history');
      expect(history.map((message) => message.text)).toContain('hello');
      // Sent after the second tab connected: both sockets counted, one name.
      const online = await tab2.waitFor<string[]>('presence', (names) => names.includes('Linus'));
      expect(online.filter((name) => name === 'Linus')).toHaveLength(1);

      await linus.http.post('/api/logout');
      expect(await tab2.waitFor('session:destroyed')).toEqual({ reason: 'deleted' });
    } finally {
      tab1.close();
      tab2.close();
    }
  });

  describe('"Your sessions"', () => {
    const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';
    const SAFARI_ON_IPHONE =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    const WELL_FORMED_UNKNOWN_HANDLE = 'A'.repeat(22);
    const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

    it('all three answer 401 without a signed-in session', async () => {
      const anonymous = new CookieClient(chat.url);
      const signedOut = (await signedIn('Hedy')).http;
      expect((await signedOut.post('/api/logout')).status).toBe(204);
      for (const http of [anonymous, signedOut]) {
        expect(await http.get('/api/sessions')).toMatchObject({ status: 401, body: { message: 'Not signed in' } });
        expect((await http.post(`/api/sessions/${WELL_FORMED_UNKNOWN_HANDLE}/revoke`)).status).toBe(401);
        expect((await http.post('/api/sessions/revoke-others')).status).toBe(401);
      }
      // Asking made no session.
      expect(anonymous.cookies.has('SESSION')).toBe(false);
    });

    it("lists the user's own sessions by handle, with the device and times, and never a session id", async () => {
      const laptop = await signedIn('Barbara', { 'user-agent': FIREFOX_ON_WINDOWS });
      const phone = await signedIn('Barbara', { 'user-agent': SAFARI_ON_IPHONE });
      const someoneElse = await signedIn('Frances');

      const response = await laptop.http.get('/api/sessions');
      expect(response.status).toBe(200);
      const { sessions } = response.body as { sessions: Record<string, unknown>[] };
      expect(sessions).toHaveLength(2);
      const [own, other] = [sessions.find((session) => session.current), sessions.find((session) => !session.current)];
      expect(own).toEqual({
        handle: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        current: true,
        device: 'Firefox on Windows',
        createdAt: expect.stringMatching(ISO_TIME),
        lastActiveAt: expect.stringMatching(ISO_TIME),
        expiresAt: expect.stringMatching(ISO_TIME),
      });
      expect(other).toMatchObject({ handle: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), current: false, device: 'Safari on iPhone' });
      expect(own!.handle).not.toBe(other!.handle);
      expect(Math.abs(Date.parse(own!.lastActiveAt as string) - Date.now())).toBeLessThan(60_000);
      // The 30-minute idle timeout, from the last activity.
      expect(Date.parse(own!.expiresAt as string) - Date.parse(own!.lastActiveAt as string)).toBe(1800 * 1000);
      expectNoSessionIds(response.body, laptop.http, phone.http, someoneElse.http);

      // The other device sees the same two, itself marked.
      const fromPhone = await phone.http.get('/api/sessions');
      expect(fromPhone.body.sessions.find((session: { current: boolean }) => session.current).handle).toBe(other!.handle);
      expectNoSessionIds(fromPhone.body, laptop.http, phone.http);
      // Another user sees only their own.
      const theirs = await someoneElse.http.get('/api/sessions');
      expect(theirs.body.sessions).toEqual([expect.objectContaining({ current: true, device: 'Unknown device' })]);
      expect(theirs.body.sessions[0].handle).not.toBe(own!.handle);
      expect(theirs.body.sessions[0].handle).not.toBe(other!.handle);
    });

    it("revoke ends one of the user's sessions and its sockets; 404 for a malformed, unknown, ended or someone else's handle", async () => {
      const laptop = await signedIn('Katherine');
      const phone = await signedIn('Katherine');
      const someoneElse = await signedIn('Dorothy');
      const phoneHandle = (await phone.http.get('/api/sessions')).body.sessions.find((session: { current: boolean }) => session.current).handle as string;

      for (const handle of ['nope', 'x'.repeat(200), `${phoneHandle}x`, WELL_FORMED_UNKNOWN_HANDLE, encodeURIComponent(sessionIdOf(phone.http))]) {
        expect(await laptop.http.post(`/api/sessions/${handle}/revoke`)).toMatchObject({ status: 404, body: { message: 'No such session' } });
      }
      // Someone else's session is not theirs to end, and looks the same as none.
      expect(await someoneElse.http.post(`/api/sessions/${phoneHandle}/revoke`)).toMatchObject({ status: 404, body: { message: 'No such session' } });
      expect((await phone.http.get('/api/me')).status).toBe(200);

      const phoneSocket = await RecordedSocket.connect(chat.url, phone.cookie);
      try {
        expect((await laptop.http.post(`/api/sessions/${phoneHandle}/revoke`)).status).toBe(204);
        expect(await phoneSocket.waitFor('session:destroyed')).toEqual({ reason: 'deleted' });
      } finally {
        phoneSocket.close();
      }
      expect((await phone.http.get('/api/me')).status).toBe(401);
      expect((await laptop.http.get('/api/me')).status).toBe(200);
      expect((await someoneElse.http.get('/api/me')).status).toBe(200);
      expect((await laptop.http.get('/api/sessions')).body.sessions).toEqual([expect.objectContaining({ current: true })]);
      // Ended already.
      expect((await laptop.http.post(`/api/sessions/${phoneHandle}/revoke`)).status).toBe(404);

      // The caller's own handle signs the caller out, as logout does.
      const ownHandle = (await laptop.http.get('/api/sessions')).body.sessions[0].handle as string;
      expect((await laptop.http.post(`/api/sessions/${ownHandle}/revoke`)).status).toBe(204);
      expect((await laptop.http.get('/api/me')).status).toBe(401);
    });

    it("revoke-others ends every other session of the user, not the caller's nor anyone else's, and says how many", async () => {
      const [first, second, third] = [await signedIn('Mary'), await signedIn('Mary'), await signedIn('Mary')];
      const someoneElse = await signedIn('Annie');

      const response = await second.http.post('/api/sessions/revoke-others');
      expect(response).toMatchObject({ status: 200, body: { revoked: 2 } });
      expectNoSessionIds(response.body, first.http, second.http, third.http);
      expect((await first.http.get('/api/me')).status).toBe(401);
      expect((await third.http.get('/api/me')).status).toBe(401);
      expect((await second.http.get('/api/me')).status).toBe(200);
      expect((await someoneElse.http.get('/api/me')).status).toBe(200);
      expect((await second.http.get('/api/sessions')).body.sessions).toEqual([expect.objectContaining({ current: true })]);

      expect(await second.http.post('/api/sessions/revoke-others')).toMatchObject({ status: 200, body: { revoked: 0 } });
    });
  });
});
