import { io, type Socket } from 'socket.io-client';

/** A real socket.io-client connected with the given cookie/auth; resolves once connected or refused. */
export async function connectSocket(url: string, options: { cookie?: string; origin?: string; token?: string; namespace?: string } = {}): Promise<Socket> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;
  const socket = io(url + (options.namespace ?? ''), {
    transports: ['websocket'],
    extraHeaders: headers,
    auth: options.token ? { token: options.token } : undefined,
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return socket;
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
