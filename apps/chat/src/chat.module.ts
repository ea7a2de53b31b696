import { Module, type DynamicModule } from '@nestjs/common';
import { EnableRedisHttpSession } from 'nestjs-redis-session';
import { AuthController } from './auth/auth.controller.js';
import { SessionsController } from './auth/sessions.controller.js';
import type { ResolvedChatConfig } from './chat-config.js';
import { ChatGateway } from './chat/chat.gateway.js';
import { Presence } from './chat/presence.js';
import { InMemoryMessageHistory } from './history/in-memory-message-history.js';
import { MessageHistory } from './history/message-history.js';
import { RedisMessageHistory } from './history/redis-message-history.js';

/** The chat: sign-in over HTTP, the room over Socket.IO, both on the library's sessions. */
@Module({})
export class ChatModule {
  static register(config: ResolvedChatConfig): DynamicModule {
    const { redisUrl, namespace } = config;
    return {
      module: ChatModule,
      imports: [
        EnableRedisHttpSession.forRoot({
          maxInactiveIntervalInSeconds: config.sessionTimeoutSeconds,
          maximumSessions: config.maximumSessions,
          redisNamespace: namespace,
          ...(redisUrl ? { redis: redisUrl } : { store: 'memory' as const }),
        }),
      ],
      controllers: [AuthController, SessionsController],
      providers: [
        ChatGateway,
        Presence,
        {
          provide: MessageHistory,
          useFactory: () => (redisUrl ? new RedisMessageHistory(redisUrl, `${namespace}:messages`) : new InMemoryMessageHistory()),
        },
      ],
    };
  }
}
