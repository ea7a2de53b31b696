import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import { SessionEvents } from './core/session-events.js';

interface Emitter {
  emit(eventName: string, payload: unknown): unknown;
}

/**
 * Re-emits every session event on @nestjs/event-emitter's EventEmitter2, as `session.created`,
 * `session.deleted` and `session.expired`, when the app has one (so `@OnEvent('session.expired')`
 * works). The package stays optional: it is looked up at run time, and its absence is no error.
 */
@Injectable()
export class EventEmitterBridge implements OnModuleInit, OnModuleDestroy {
  #subscription?: Subscription;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly events: SessionEvents,
  ) {}

  async onModuleInit(): Promise<void> {
    const emitter = await findEventEmitter(this.moduleRef);
    if (!emitter) return;
    this.#subscription = this.events.subscribe((event) => {
      try {
        emitter.emit(`session.${event.type}`, event);
      } catch {
        // A throwing listener is the app's bug; it must not end the event stream for everyone else.
      }
    });
  }

  onModuleDestroy(): void {
    this.#subscription?.unsubscribe();
  }
}

/** The app's EventEmitter2, from any module, or undefined when the package or the provider is absent. */
async function findEventEmitter(moduleRef: ModuleRef): Promise<Emitter | undefined> {
  let token: unknown;
  try {
    token = (await import('@nestjs/event-emitter')).EventEmitter2;
  } catch {
    return undefined;
  }
  try {
    return moduleRef.get(token as new () => Emitter, { strict: false });
  } catch {
    return undefined;
  }
}
