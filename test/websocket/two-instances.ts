import type { INestApplication } from '@nestjs/common';
import type { SessionModuleOptions } from 'nestjs-redis-session';
import { CookieClient } from '../http/client.js';
import { startWsFixtureApp } from './fixture-app.js';

export interface Instance {
  app: INestApplication;
  url: string;
}

/** Two instances of the fixture app (A and B) sharing one Redis namespace, as two pods would. */
export async function startTwoInstances(options: SessionModuleOptions): Promise<{ a: Instance; b: Instance }> {
  const [a, b] = await Promise.all([startWsFixtureApp(options), startWsFixtureApp(options)]);
  return { a, b };
}

export async function closeAll(...instances: (Instance | undefined)[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance?.app.close()));
}

/** A user signed in over HTTP; `cookie` is the handshake header that carries the session. */
export async function signIn(url: string, userId = 'u1'): Promise<{ http: CookieClient; sessionId: string; cookie: string }> {
  const http = new CookieClient(url);
  const response = await http.post('/login', { userId });
  if (response.status !== 200) throw new Error(`login failed with HTTP ${response.status}`);
  return { http, sessionId: response.body.id, cookie: `SESSION=${http.cookies.get('SESSION')}` };
}

/** The same user's cookie jar, pointed at another instance. */
export function sameUserOn(url: string, http: CookieClient): CookieClient {
  const other = new CookieClient(url);
  for (const [name, value] of http.cookies) other.cookies.set(name, value);
  return other;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
