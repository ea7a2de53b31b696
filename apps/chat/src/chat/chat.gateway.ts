import { Logger } from '@nestjs/common';
import {
  MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer,
  type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit,
} from '@nestjs/websockets';
import { HttpSession, Session, SessionRepository } from 'nestjs-redis-session';
import type { Server, Socket } from 'socket.io';
import type { ChatSessionAttributes } from '../auth/chat-user.js';
import { MessageHistory } from '../history/message-history.js';
import { parseMessageText, type ChatMessage, type MessageAck } from './chat-message.js';
import { Presence } from './presence.js';

/** What the chat keeps on each socket; `sessionId` is put there by the library's handshake. */
interface ChatSocketData {
  sessionId?: string;
  username?: string;
}

/**
 * The one room, on the default namespace. The library's adapter has already refused sockets
 * without a live session, keeps the session alive on every event and closes the socket when the
 * session ends (after sending `session:destroyed`).
 */
@WebSocketGateway()
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  readonly #logger = new Logger('ChatGateway');
  @WebSocketServer() server!: Server;

  constructor(
    private readonly sessions: SessionRepository,
    private readonly history: MessageHistory,
    private readonly presence: Presence,
  ) {}

  afterInit(server: Server): void {
    this.presence.attach(server);
  }

  async handleConnection(socket: Socket): Promise<void> {
    const data = socket.data as ChatSocketData;
    const session = data.sessionId ? await this.sessions.findById<ChatSessionAttributes>(data.sessionId) : undefined;
    const username = session?.get('username');
    if (!username) {
      // A live session that never signed in: the room is for signed-in users only.
      socket.emit('exception', { status: 'error', message: 'Sign in first' });
      socket.disconnect(true);
      return;
    }
    data.username = username;
    socket.emit('history', await this.recentMessages());
    this.presence.changed();
  }

  handleDisconnect(): void {
    this.presence.changed();
  }

  @SubscribeMessage('message')
  async onMessage(@Session() session: HttpSession<ChatSessionAttributes>, @MessageBody() payload: unknown): Promise<MessageAck> {
    const username = session.get('username');
    if (!username) return { error: 'Sign in first' };
    const parsed = parseMessageText(payload);
    if ('error' in parsed) return { error: parsed.error };
    const message: ChatMessage = { username, text: parsed.text, at: new Date().toISOString() };
    // Stored before it is sent, so that a page connecting meanwhile finds it in the history.
    await this.history.append(message).catch((error: unknown) => this.#logger.warn(`Message not kept in the history: ${describe(error)}`));
    this.server.emit('message', message);
    return { ok: true };
  }

  private async recentMessages(): Promise<ChatMessage[]> {
    try {
      return await this.history.recent();
    } catch (error) {
      this.#logger.warn(`Could not read the history: ${describe(error)}`);
      return [];
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
