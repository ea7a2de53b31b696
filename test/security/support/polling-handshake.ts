/**
 * A Socket.IO handshake over HTTP long-polling, written out with fetch (Engine.IO protocol 4):
 * open a transport, send CONNECT for the root namespace, read the server's answer. Browsers start
 * with this transport, and fetch lets the test send the headers a browser would (Origin, Cookie).
 */
export type PollingVerdict = { kind: 'connected' } | { kind: 'refused'; message: string; code: string | undefined };

export async function pollingHandshake(baseUrl: string, headers: Record<string, string>): Promise<PollingVerdict> {
  const endpoint = `${baseUrl}/socket.io/?EIO=4&transport=polling`;
  const opened = await (await fetch(endpoint, { headers })).text();
  if (!opened.startsWith('0')) throw new Error(`Engine.IO did not open: ${opened.slice(0, 200)}`);
  const { sid } = JSON.parse(opened.slice(1)) as { sid: string };
  const session = `${endpoint}&sid=${encodeURIComponent(sid)}`;
  const sent = await fetch(session, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain;charset=UTF-8' }, body: '40' });
  if (!sent.ok) throw new Error(`CONNECT not accepted: HTTP ${sent.status}`);
  // Several packets in one answer are separated by the record separator.
  const packets = (await (await fetch(session, { headers })).text()).split('\x1e');
  const answer = packets.find((packet) => packet.startsWith('40') || packet.startsWith('44'));
  if (answer === undefined) throw new Error(`No CONNECT answer: ${packets.join(' | ').slice(0, 200)}`);
  if (answer.startsWith('40')) {
    await fetch(session, { method: 'POST', headers, body: '41' }).catch(() => undefined); // disconnect politely
    return { kind: 'connected' };
  }
  const error = JSON.parse(answer.slice(2)) as { message: string; data?: { code?: string } };
  return { kind: 'refused', message: error.message, code: error.data?.code };
}
