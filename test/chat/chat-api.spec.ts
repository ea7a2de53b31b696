import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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

  async function signedIn(username: string): Promise<{ http: CookieClient; cookie: string }> {
    const http = new CookieClient(chat.url);
    expect((await http.post('/api/login', { username })).status).toBe(200);
    return { http, cookie: `SESSION=${http.cookies.get('SESSION')}` };
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
});
