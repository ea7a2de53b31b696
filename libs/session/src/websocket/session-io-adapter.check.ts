import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { GATEWAY_METADATA } from '@nestjs/websockets/constants.js';
import { LOGGER_CONTEXT, SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session-options.js';

/** What to add when gateways run without the session adapter. */
export const MISSING_ADAPTER_FIX = 'app.useWebSocketAdapter(new SessionIoAdapter(app))';

/**
 * No silent fallback: Nest binds gateways during `init()` with the adapter the app was given, or
 * else with a plain IoAdapter, whose sockets no session governs (no origin check, no session
 * required, never closed when their session ends). Once the app has started, an app with gateways
 * whose servers SessionIoAdapter did not create is told so: one error naming the missing line, or,
 * with `websocket.requireAdapter`, a failed start-up.
 */
@Injectable()
export class SessionIoAdapterCheck implements OnApplicationBootstrap {
  #installed = false;

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  /** Called by SessionIoAdapter when it creates a gateway's server. */
  adapterInstalled(): void {
    this.#installed = true;
  }

  onApplicationBootstrap(): void {
    if (this.#installed) return;
    const gateways = this.discovery
      .getProviders()
      .filter((wrapper) => typeof wrapper.metatype === 'function' && Reflect.getMetadata(GATEWAY_METADATA, wrapper.metatype) === true)
      .map((wrapper) => wrapper.name);
    if (gateways.length === 0) return;
    const message =
      `Gateways (${[...new Set(gateways)].join(', ')}) run without the session adapter: their sockets are not checked for origin ` +
      `or session and are never closed when their session ends. Add ${MISSING_ADAPTER_FIX} in main.ts, before app.listen().`;
    if (this.options.websocket.requireAdapter) throw new Error(`EnableRedisHttpSession: ${message}`);
    new Logger(LOGGER_CONTEXT).error(message);
  }
}
