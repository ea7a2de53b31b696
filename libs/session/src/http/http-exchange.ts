import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request and response of one HTTP exchange, whatever the platform: Express gives Node's own
 * objects (extended), Fastify wraps them (`request.raw`, `reply.raw`). Headers are read from the
 * raw request; response headers go through Fastify's reply when there is one, so that they are
 * sent with the reply's own headers.
 */
export interface HttpExchange {
  readonly rawRequest: IncomingMessage;
  /** The platform's request (has `protocol`, honouring its trust-proxy setting). */
  platformRequest: unknown;
  platformResponse: unknown;
}

export type FastifyReplyLike = {
  raw: ServerResponse;
  getHeader(name: string): unknown;
  getHeaders(): Record<string, unknown>;
  header(name: string, value: unknown): FastifyReplyLike;
  removeHeader(name: string): unknown;
  code(statusCode: number): FastifyReplyLike;
  sent?: boolean;
};

function isFastifyReply(response: unknown): response is FastifyReplyLike {
  return typeof response === 'object' && response !== null && 'raw' in response && typeof (response as FastifyReplyLike).header === 'function';
}

/** True when the client reached us over https (directly, or through a proxy the platform trusts). */
export function isSecure(exchange: HttpExchange): boolean {
  const protocol = (exchange.platformRequest as { protocol?: unknown } | undefined)?.protocol;
  if (typeof protocol === 'string') return protocol === 'https';
  return Boolean((exchange.rawRequest.socket as { encrypted?: boolean } | undefined)?.encrypted);
}

/** The first value of a request header (`name` in lower case, as Node keeps them), if any. */
export function requestHeader(exchange: HttpExchange, name: string): string | undefined {
  const value = exchange.rawRequest.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** True once the response's headers are gone (then nothing more can be set). */
function headersSent(exchange: HttpExchange): boolean {
  const response = exchange.platformResponse;
  if (isFastifyReply(response)) return response.sent === true || response.raw.headersSent;
  return (response as ServerResponse | undefined)?.headersSent ?? true;
}

/**
 * Sets a response header; for `Set-Cookie`, replaces an earlier cookie of the same name set during
 * this exchange (an id that changes twice in a request sends one cookie) and keeps the others.
 */
export function setResponseHeader(exchange: HttpExchange, name: string, value: string, cookieName?: string): void {
  const values = cookieName === undefined ? [value] : [...responseHeader(exchange, name).filter((cookie) => !cookie.startsWith(`${cookieName}=`)), value];
  replaceResponseHeader(exchange, name, values);
}

/** One response header's values so far. */
function responseHeader(exchange: HttpExchange, name: string): string[] {
  const response = exchange.platformResponse;
  const value = isFastifyReply(response) ? response.getHeader(name) : (response as ServerResponse).getHeader(name);
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Every response header set so far, as the platform gives them. */
function responseHeaders(exchange: HttpExchange): Record<string, unknown> {
  const response = exchange.platformResponse;
  return isFastifyReply(response) ? response.getHeaders() : ((response as ServerResponse | undefined)?.getHeaders() ?? {});
}

/** A copy of the response headers as they are now, which later changes to the response leave as it is. */
export function responseHeaderSnapshot(exchange: HttpExchange): Record<string, unknown> {
  // getHeaders() makes a new object, but hands out the lists it holds (Fastify appends to Set-Cookie's in place).
  const headers = responseHeaders(exchange);
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) headers[name] = value.slice();
  }
  return headers;
}

/** Every response header set so far, each as its list of values (names in lower case). */
export function responseHeaderValues(exchange: HttpExchange): Map<string, string[]> {
  return headerLists(responseHeaders(exchange));
}

/** Headers as getHeaders() gives them (or a snapshot), each as its list of values (names in lower case). */
export function headerLists(headers: Record<string, unknown>): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) values.set(name.toLowerCase(), Array.isArray(value) ? value.map(String) : [String(value)]);
  }
  return values;
}

/** Replaces a response header's values; none removes it. Nothing once the headers are sent. */
export function replaceResponseHeader(exchange: HttpExchange, name: string, values: string[]): void {
  if (headersSent(exchange)) return;
  const response = exchange.platformResponse;
  // Set-Cookie stays a list, so that a later cookie of another name is added beside it.
  const next = values.length === 1 && name.toLowerCase() !== 'set-cookie' ? values[0]! : values;
  if (isFastifyReply(response)) {
    response.removeHeader(name);
    if (values.length > 0) response.header(name, next);
  } else if (values.length > 0) (response as ServerResponse).setHeader(name, next);
  else (response as ServerResponse).removeHeader(name);
}
