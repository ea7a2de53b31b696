import type { HttpExchange } from '../http/http-exchange.js';
import { requestHeader } from '../http/http-exchange.js';

/**
 * Redis keeps a small hash compact (a listpack) only while every value is at most 64 bytes
 * (`hash-max-listpack-value`): a full browser User-Agent (~100-150 bytes) more than doubled a
 * session's memory (measured: 454 -> 1006 bytes). Compacted, a User-Agent still tells the browser
 * and the platform in fewer than 64 characters.
 */
const MAX_USER_AGENT_LENGTH = 64;
/** Tokens every browser sends for compatibility: they tell nothing about the device. */
const COMPATIBILITY_TOKENS = [/^Mozilla\/5\.0\s*/, /\s*AppleWebKit\/[\d.]+\+?/g, /\s*\(KHTML, like Gecko\)/g, /\s*Gecko\/\d+/g, /\s*like Gecko/g];
/** Chrome and its derivatives (Edge, Opera...) all end in Safari/537.36 as well. */
const CHROMIUM_SAFARI_TOKEN = /\s*Safari\/[\d.]+/g;
/** An IPv6 address with an IPv4 tail, the longest textual form, is 45 characters. */
const MAX_IP_LENGTH = 45;

/**
 * The client's User-Agent and address as a "your devices" page shows them: the User-Agent compacted
 * (printable ASCII, bounded: a header may carry anything), the address as the platform reports it
 * (Express `req.ip`, Fastify `request.ip`: their trust-proxy settings honoured). For display only.
 */
export function clientMetadataOf(exchange: HttpExchange): { userAgent: string | undefined; ip: string | undefined } {
  const userAgent = compactUserAgent(requestHeader(exchange, 'user-agent'));
  const platformIp = (exchange.platformRequest as { ip?: unknown } | undefined)?.ip;
  const ip = typeof platformIp === 'string' ? platformIp : exchange.rawRequest.socket?.remoteAddress;
  return { userAgent, ip: ip !== undefined && /^[0-9A-Fa-f:.]+$/.test(ip) ? ip.slice(0, MAX_IP_LENGTH) : undefined };
}

/**
 * A User-Agent as stored: printable ASCII, without the compatibility tokens, at most 64 characters.
 * `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`
 * becomes `(X11; Linux x86_64) Chrome/131.0.0.0`.
 */
export function compactUserAgent(userAgent: string | undefined): string | undefined {
  if (userAgent === undefined) return undefined;
  let compact = userAgent.slice(0, 1024).replace(/[^\x20-\x7e]/g, '');
  for (const token of COMPATIBILITY_TOKENS) compact = compact.replace(token, '');
  if (compact.includes('Chrome/')) compact = compact.replace(CHROMIUM_SAFARI_TOKEN, '');
  compact = compact.replace(/\s+/g, ' ').trim().slice(0, MAX_USER_AGENT_LENGTH).trim();
  return compact.length > 0 ? compact : undefined;
}
