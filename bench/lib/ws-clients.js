// Socket.IO clients for the benches: one socket connected under a cookie (every socket bench), and
// for the gateway benches (bench/ws-throughput.js, bench/ws-instructions.js, against
// bench/lib/ws-bench-server.js) sockets opened under a session of their own (or none), and acked
// messages sent with a fixed number in flight.
import { io } from 'socket.io-client';

/** What an 'echo' message carries: a chat line of ordinary length. */
export const PAYLOAD = { text: 'hello, this is a chat message of ordinary length', n: 0 };
const ACK_TIMEOUT_MS = 60_000;

async function login(base) {
  const response = await fetch(`${base}/login`, { method: 'POST' });
  const cookie = response.headers.getSetCookie()[0];
  if (response.status !== 200 || !cookie) throw new Error(`login failed: HTTP ${response.status}`);
  return cookie.split(';')[0];
}

/** A socket connected to `base` with `headers` (no reconnection, a connection of its own); closed again if it does not connect within `timeoutMs`. */
export function connectSocket(base, headers, timeoutMs = 5000) {
  const socket = io(base, { transports: ['websocket'], extraHeaders: headers, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    const fail = (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`socket did not connect within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', fail);
  });
}

/** `count` connected sockets, each logged in first when `withSession`. */
export async function openSockets(base, count, withSession, connectTimeoutMs = 5000) {
  const sockets = [];
  try {
    for (let i = 0; i < count; i++) {
      const headers = withSession ? { cookie: await login(base) } : {};
      sockets.push(await connectSocket(base, headers, connectTimeoutMs));
    }
    return sockets;
  } catch (error) {
    for (const socket of sockets) socket.close();
    throw error;
  }
}

/** Sends `count` acked messages in all, `inFlight` outstanding per socket; resolves to the number acked. */
export async function sendAcked(sockets, inFlight, event, count) {
  let sent = 0;
  const lane = async (socket) => {
    while (sent < count) {
      sent++;
      await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, event === 'echo' ? { ...PAYLOAD, n: sent } : undefined);
    }
  };
  await Promise.all(sockets.flatMap((socket) => Array.from({ length: inFlight }, () => lane(socket))));
  return sent;
}
