import type { LoggerService } from '@nestjs/common';
import type { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable, Subscription } from 'rxjs';
import type { Socket } from 'socket.io';

/** IoAdapter.mapPayload: an event's arguments to the message's data and the client's ack callback, if it sent one. */
export type MapPayload = IoAdapter['mapPayload'];

/**
 * Binds a gateway's handlers to a socket as Nest's IoAdapter.bindMessageHandlers does, with plain
 * listeners instead of a per-socket RxJS pipeline per handler (fromEvent, mergeMap, defer, filter,
 * map, catchError, takeUntil). Same behaviour: each event's payload goes through `mapPayload`; the
 * handler's result (value, promise or observable, through Nest's `transform`) is sent back as the
 * ack, or as an event when it is a `WsResponse` (`{ event, data }`), every value of it, nil values
 * skipped; an ack the handler takes with `@Ack()` is left to it; an error is logged and the event
 * stays bound; what is still pending when the socket disconnects is unsubscribed and never sent.
 * The pipeline cost every socket about 1 KB and a teardown per handler, and every message six
 * operator hops: at 10,000 sockets it was a large part of handshakes, memory and mass closes.
 */
export function bindSocketMessageHandlers(
  socket: Socket,
  handlers: readonly MessageMappingProperties[],
  transform: (data: unknown) => Observable<unknown>,
  mapPayload: MapPayload,
  logger: LoggerService,
): void {
  /** Results not yet complete; created on the first one that outlives its event. */
  let pending: Set<Subscription> | undefined;
  let disconnected = false;
  socket.once('disconnect', () => {
    disconnected = true;
    if (pending) for (const subscription of pending) subscription.unsubscribe();
    pending = undefined;
  });

  for (const { message, callback, isAckHandledManually } of handlers) {
    socket.on(message, (...args: unknown[]) => {
      if (disconnected) return;
      // RxJS' fromEvent hands one argument as itself and several as an array: mapPayload expects that.
      const { data, ack } = mapPayload(args.length > 1 ? args : args[0]);
      let result: Observable<unknown>;
      try {
        result = transform(callback(data, ack));
      } catch (error) {
        logger.error(error);
        return;
      }
      let finished = false;
      let subscription: Subscription | undefined;
      const finish = () => {
        finished = true;
        if (subscription) pending?.delete(subscription);
      };
      subscription = result.subscribe({
        next: (response) => {
          if (response === null || response === undefined || disconnected) return;
          const event = (response as { event?: unknown }).event;
          if (event) {
            socket.emit(event as string, (response as { data?: unknown }).data);
            return;
          }
          if (!isAckHandledManually && typeof ack === 'function') ack(response);
        },
        error: (error: unknown) => {
          finish();
          logger.error(error);
        },
        complete: finish,
      });
      if (!finished) (pending ??= new Set()).add(subscription);
    });
  }
}
