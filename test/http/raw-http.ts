import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket, for header values that fetch and
 * node:http refuse to send (CR, LF, NUL, raw UTF-8). `headerLines` are sent as given.
 */
export function rawRequest(baseUrl: string, method: string, path: string, headerLines: string[], body?: string): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const head = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...headerLines];
  if (body !== undefined) head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  const request = Buffer.from(head.join('\r\n') + '\r\n\r\n' + (body ?? ''), 'utf8');
  return new Promise((resolve, reject) => {
    // Not end(): Node's server aborts a request whose client half-closes before the response.
    // `Connection: close` makes the server close the socket once it has answered.
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks).toString('latin1')));
      } catch (error) {
        reject(new Error(`${method} ${path} with ${JSON.stringify(headerLines).slice(0, 300)}: ${(error as Error).message}`));
      }
    });
  });
}

/** `text` is the response in latin1 (one char per byte, so chunk sizes hold); the body is decoded as UTF-8. */
function parseResponse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`No HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = text.slice(split + 4);
  if (headers.get('transfer-encoding')?.[0] === 'chunked') body = unchunk(body);
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

function unchunk(body: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (!size) return out;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
