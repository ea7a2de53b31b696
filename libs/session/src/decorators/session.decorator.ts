import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { resolveSession, type ResolveSessionOptions } from '../http/resolve-session.js';
import { recordSessionParameter } from './session-parameters.js';
import { sessionParameterType } from './session-parameter-type.js';
import { resolveSocketSession } from '../websocket/socket-session.js';

/**
 * The current session, in HTTP handlers and in gateway message handlers.
 *
 * ```ts
 * @Get('me') me(@Session() session: HttpSession<{ userId: string }>) { return session.get('userId'); }
 * ```
 * A session is created when there is none; `@Session({ create: false })` gives `undefined` instead.
 */
export const Session = createParamDecorator(
  (options: ResolveSessionOptions | undefined, context: ExecutionContext) =>
    context.getType() === 'ws' ? resolveSocketSession(context, options) : resolveSession(context, options),
  // The filter and the socket adapter do their work only for the handlers that ask for the session;
  // a global ValidationPipe must not take the session for a DTO.
  [recordSessionParameter, sessionParameterType],
);
