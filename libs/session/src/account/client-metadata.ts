import type { HttpExchange } from '../http/http-exchange.js';
import { requestHeader } from '../http/http-exchange.js';

/** Long enough for any real browser's User-Agent; a longer one is cut, not refused. */
const MAX_USER_AGENT_LENGTH = 256;
/** An IPv6 address with an IPv4 tail, the longest textual form, is 45 characters. */
const MAX_IP_LENGTH = 45;

/**
 * The client's User-Agent and address as a "your devices" page shows them: bounded in length,
 * printable ASCII only (a header may carry anything), the address as the platform reports it
 * (Express `req.ip`, Fastify `request.ip`: their trust-proxy settings honoured). For display only.
 */
export function clientMetadataOf(exchange: HttpExchange): { userAgent: string | undefined; ip: string | undefined } {
  const userAgent = printable(requestHeader(exchange, 'user-agent'), MAX_USER_AGENT_LENGTH);
  const platformIp = (exchange.platformRequest as { ip?: unknown } | undefined)?.ip;
  const ip = typeof platformIp === 'string' ? platformIp : exchange.rawRequest.socket?.remoteAddress;
  return { userAgent, ip: ip !== undefined && /^[0-9A-Fa-f:.]+$/.test(ip) ? ip.slice(0, MAX_IP_LENGTH) : undefined };
}

function printable(value: string | undefined, maxLength: number): string | undefined {
  if (value === undefined) return undefined;
  const cleaned = value.replace(/[^\x20-\x7e]/g, '').trim().slice(0, maxLength);
  return cleaned.length > 0 ? cleaned : undefined;
}
