import { connect } from 'node:net';

export interface RawExchange {
  /** The response's status, or 0 when the server closed the connection without answering. */
  status: number;
  /** Response headers, lower-cased names, every value. */
  headers: Map<string, string[]>;
  body: string;
}

/**
 * One HTTP/1.1 request whose header lines are written byte for byte, one char per byte (latin1):
 * control characters and raw high bytes reach the server as they are, which fetch and node:http
 * refuse to send. Bounded in time, so that a hostile value can never hang a property run.
 */
export function rawExchange(baseUrl: string, method: 'GET' | 'POST', path: string, headerLines: string[], body?: string, timeoutMs = 5000): Promise<RawExchange> {
  const { hostname, port } = new URL(baseUrl);
  const head = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...headerLines];
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body, 'utf8');
  if (body !== undefined) head.push('Content-Type: application/json', `Content-Length: ${payload.length}`);
  const request = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
  return new Promise((resolve, reject) => {
    // Not end(): Node's server aborts a request whose client half-closes before the response.
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`${method} ${path}: no answer within ${timeoutMs} ms to ${JSON.stringify(headerLines).slice(0, 300)}`));
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    // A reset after the server answered (it closes on a parse error) still leaves the answer.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(parse(Buffer.concat(chunks).toString('latin1'))));
  });
}

function parse(text: string): RawExchange {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return { status: 0, headers: new Map(), body: '' };
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = text.slice(split + 4);
  if (headers.get('transfer-encoding')?.[0] === 'chunked') body = unchunk(body);
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: Buffer.from(body, 'latin1').toString('utf8') };
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
