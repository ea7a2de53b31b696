import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Server } from 'socket.io';

/** How long after a change the list is sent once more, to correct a list that raced a change on another instance. */
const SETTLE_DELAY_MS = 1000;

/**
 * Who is online: the user names of every connected socket on every instance (the Socket.IO
 * adapter's fetchSockets() asks them all), one entry per user however many tabs they have.
 * Announced to everyone after each connect and disconnect.
 */
@Injectable()
export class Presence implements OnModuleDestroy {
  readonly #logger = new Logger('ChatPresence');
  #server: Server | undefined;
  #running: Promise<void> | undefined;
  #rerunRequested = false;
  #settleTimer: NodeJS.Timeout | undefined;
  #closing = false;

  attach(server: Server): void {
    this.#server = server;
  }

  /** The online user names, sorted, across all instances. */
  async usernames(): Promise<string[]> {
    const sockets = await this.#server!.fetchSockets();
    const names = new Set<string>();
    for (const socket of sockets) {
      const username = (socket.data as { username?: unknown }).username;
      if (typeof username === 'string') names.add(username);
    }
    return [...names].sort((a, b) => a.localeCompare(b));
  }

  /** Someone came or went: send the new list to everyone (coalesced: one computation at a time). */
  changed(): void {
    if (this.#closing || !this.#server) return;
    if (this.#running) {
      this.#rerunRequested = true;
      return;
    }
    this.#running = this.announce().finally(() => {
      this.#running = undefined;
      if (this.#rerunRequested) {
        this.#rerunRequested = false;
        this.changed();
      } else {
        this.scheduleSettle();
      }
    });
  }

  onModuleDestroy(): void {
    // Sockets closing at shutdown are not departures worth announcing (and the adapter is going away).
    this.#closing = true;
    clearTimeout(this.#settleTimer);
  }

  private async announce(): Promise<void> {
    try {
      this.#server!.emit('presence', await this.usernames());
    } catch (error) {
      this.#logger.warn(`Could not list who is online: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private scheduleSettle(): void {
    clearTimeout(this.#settleTimer);
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      if (!this.#closing && !this.#running) this.#running = this.announce().finally(() => (this.#running = undefined));
    }, SETTLE_DELAY_MS);
    this.#settleTimer.unref();
  }
}
