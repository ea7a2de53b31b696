import { Controller, Get, HttpCode, NotFoundException, Param, Post, UnauthorizedException } from '@nestjs/common';
import { HttpSession, Session, SessionRegistry } from 'nestjs-redis-session';
import type { ChatSessionAttributes } from './chat-user.js';
import { sessionViewOf, type SessionView } from './session-view.js';

/**
 * "Your sessions": the signed-in user's sessions on every device, and signing one or all the
 * others out. Sessions are named by the library's handles, never by their ids; a revoked one
 * ends as a logout does, its pages told at once on every instance.
 */
@Controller('api/sessions')
export class SessionsController {
  constructor(private readonly registry: SessionRegistry) {}

  @Get()
  async list(@Session({ create: false }) session?: HttpSession<ChatSessionAttributes>): Promise<{ sessions: SessionView[] }> {
    const user = signedIn(session);
    const sessions = await this.registry.getSessions(user.username, user.session);
    return { sessions: sessions.map(sessionViewOf) };
  }

  @Post('revoke-others')
  @HttpCode(200)
  async revokeOthers(@Session({ create: false }) session?: HttpSession<ChatSessionAttributes>): Promise<{ revoked: number }> {
    return { revoked: await this.registry.revokeOthers(signedIn(session).session) };
  }

  /** 404 for a handle that names no live session of this user: someone else's looks the same as none. */
  @Post(':handle/revoke')
  @HttpCode(204)
  async revoke(@Param('handle') handle: string, @Session({ create: false }) session?: HttpSession<ChatSessionAttributes>): Promise<void> {
    const user = signedIn(session);
    const target = (await this.registry.getSessions(user.username, user.session)).find((info) => info.handle === handle);
    if (!target) throw new NotFoundException('No such session');
    // This device's own row: a plain sign-out, which also clears the cookie.
    if (target.current) return user.session.invalidate();
    if (!(await this.registry.revoke(user.username, handle))) throw new NotFoundException('No such session');
  }
}

/** The session and its user, or a 401 as `GET /api/me` answers. */
function signedIn(session: HttpSession<ChatSessionAttributes> | undefined): { session: HttpSession<ChatSessionAttributes>; username: string } {
  const username = session?.get('username');
  if (!session || !username) throw new UnauthorizedException('Not signed in');
  return { session, username };
}
