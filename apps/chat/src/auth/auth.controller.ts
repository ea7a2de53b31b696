import { BadRequestException, Body, Controller, Get, HttpCode, Post, UnauthorizedException } from '@nestjs/common';
import { HttpSession, PRINCIPAL_NAME_INDEX_NAME, Session } from 'nestjs-redis-session';
import type { ChatSessionAttributes } from './chat-user.js';
import { parseUsername } from './username.js';

/** Sign-in is just a name: the point of the sample is the session, not the credentials. */
@Controller('api')
export class AuthController {
  @Post('login')
  @HttpCode(200)
  login(@Session() session: HttpSession<ChatSessionAttributes>, @Body() body: unknown): { username: string } {
    const parsed = parseUsername((body as { username?: unknown } | undefined)?.username);
    if ('error' in parsed) throw new BadRequestException(parsed.error);
    // A new id at sign-in: an id planted before login (session fixation) is worthless afterwards.
    session.changeId();
    session.set('username', parsed.username);
    session.set(PRINCIPAL_NAME_INDEX_NAME, parsed.username);
    return { username: parsed.username };
  }

  @Get('me')
  me(@Session({ create: false }) session?: HttpSession<ChatSessionAttributes>): { username: string } {
    const username = session?.get('username');
    if (!username) throw new UnauthorizedException('Not signed in');
    return { username };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Session({ create: false }) session?: HttpSession<ChatSessionAttributes>): Promise<void> {
    // Ends the session everywhere: the library closes its sockets on every instance.
    await session?.invalidate();
  }
}
