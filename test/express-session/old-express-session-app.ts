import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import type { Server } from 'node:http';
import type { SharedRedisClient } from '../harness/redis.js';

/** The app before the migration: plain express-session + connect-redis, as such apps run today. */
export async function startOldApp(client: SharedRedisClient, secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(express.json());
  app.use(session({ store: new RedisStore({ client, prefix: 'sess:' }), secret, resave: false, saveUninitialized: false }));
  app.post('/login', (request, response) => {
    const data = request.session as unknown as Record<string, unknown>;
    data.user = (request.body as { user: string }).user;
    data.cart = ['book', 'pen'];
    response.json({ sessionID: request.sessionID });
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Logs in on the old app; returns its cookie (`connect.sid=s%3A...`) and its session id. */
export async function oldSession(url: string, user: string): Promise<{ cookie: string; sessionID: string }> {
  const response = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) });
  const cookie = response.headers.getSetCookie()[0].split(';')[0];
  return { cookie, sessionID: ((await response.json()) as { sessionID: string }).sessionID };
}
