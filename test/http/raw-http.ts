import { rawExchange, type RawExchange } from '../harness/raw-exchange.js';

export type RawResponse = RawExchange;

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket, for header values that fetch and
 * node:http refuse to send (CR, LF, NUL, raw UTF-8). `headerLines` are sent as UTF-8 bytes; a
 * server that closes without answering is an error here.
 */
export async function rawRequest(baseUrl: string, method: 'GET' | 'POST', path: string, headerLines: string[], body?: string): Promise<RawResponse> {
  const asBytes = headerLines.map((line) => Buffer.from(line, 'utf8').toString('latin1'));
  const response = await rawExchange(baseUrl, method, path, asBytes, body);
  if (response.status === 0) throw new Error(`No HTTP response to ${method} ${path} with ${JSON.stringify(headerLines).slice(0, 300)}`);
  return response;
}
