import { io, type Socket } from 'socket.io-client';

export interface SocketOptions {
  cookie?: string;
  origin?: string;
  token?: string;
  /** Raw `auth` payload, of any type (wins over `token`): for hostile clients. */
  auth?: unknown;
  /** Further handshake headers, e.g. X-Auth-Token. */
  headers?: Record<string, string>;
  namespace?: string;
}

function openSocket(url: string, options: SocketOptions): Socket {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;
  const auth = 'auth' in options ? options.auth : options.token ? { token: options.token } : undefined;
  return io(url + (options.namespace ?? ''), {
    transports: ['websocket'],
    extraHeaders: headers,
    auth: auth as Record<string, unknown> | undefined,
    reconnection: false,
    forceNew: true,
  });
}

/** A real socket.io-client connected with the given cookie/auth; resolves once connected, rejects when refused. */
export async function connectSocket(url: string, options: SocketOptions = {}): Promise<Socket> {
  const outcome = await handshake(url, options);
  if (outcome.kind === 'connected') return outcome.socket;
  throw outcome.kind === 'refused' ? outcome.error : new Error(`handshake ended without a verdict: ${outcome.reason}`);
}

export type HandshakeOutcome =
  | { kind: 'connected'; socket: Socket }
  | { kind: 'refused'; error: Error & { data?: { code?: string } } }
  /** The connection closed before any verdict (e.g. socket.io's own parser rejecting a malformed packet). */
  | { kind: 'closed'; reason: string };

/** Whatever the server does with a handshake, bounded in time; a refused or closed socket is already closed. */
export function handshake(url: string, options: SocketOptions = {}, timeoutMs = 5000): Promise<HandshakeOutcome> {
  const socket = openSocket(url, options);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: HandshakeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('connect').off('connect_error');
      socket.io.off('close', onClose);
      if (outcome.kind !== 'connected') socket.close();
      resolve(outcome);
    };
    // A refusal closes the manager first and reports connect_error right after: let that win.
    const onClose = (reason: string) => setImmediate(() => finish({ kind: 'closed', reason }));
    const timer = setTimeout(() => finish({ kind: 'closed', reason: `no verdict within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => finish({ kind: 'connected', socket }));
    socket.once('connect_error', (error) => finish({ kind: 'refused', error }));
    socket.io.once('close', onClose);
  });
}

export function nextEvent<T = unknown>(socket: Socket, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Resolves to what arrives first, or 'nothing' after `timeoutMs`: for events that must not happen. */
export function firstOf(socket: Socket, events: string[], timeoutMs: number): Promise<{ event: string; payload: unknown } | 'nothing'> {
  return new Promise((resolve) => {
    const listeners = events.map((event) => [event, (payload: unknown) => done({ event, payload })] as const);
    const done = (result: { event: string; payload: unknown } | 'nothing') => {
      clearTimeout(timer);
      for (const [event, listener] of listeners) socket.off(event, listener);
      resolve(result);
    };
    const timer = setTimeout(() => done('nothing'), timeoutMs);
    for (const [event, listener] of listeners) socket.on(event, listener);
  });
}

/** Cookie header for a session id, as the library writes it (base64, as Spring). */
export function sessionCookie(id: string): string {
  return `SESSION=${Buffer.from(id, 'utf8').toString('base64')}`;
}
