import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { ChatMessage } from '../chat/chat-message.js';
import { MessageHistory } from './message-history.js';

/** History shared by every instance: a capped Redis list, newest first. */
export class RedisMessageHistory extends MessageHistory implements OnApplicationShutdown {
  readonly #logger = new Logger('ChatHistory');
  readonly #redis: Redis;
  #lastErrorLog = 0;

  constructor(
    redisUrl: string,
    private readonly key: string,
  ) {
    super();
    // Give up quickly while Redis is away: history is a nicety, the live chat must not wait for it.
    this.#redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.#redis.on('error', (error: Error) => this.logError(error));
  }

  async append(message: ChatMessage): Promise<void> {
    await this.#redis
      .multi()
      .lpush(this.key, JSON.stringify(message))
      .ltrim(this.key, 0, MessageHistory.KEPT - 1)
      .exec();
  }

  async recent(): Promise<ChatMessage[]> {
    const newestFirst = await this.#redis.lrange(this.key, 0, MessageHistory.KEPT - 1);
    return newestFirst.reverse().map((text) => JSON.parse(text) as ChatMessage);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  private logError(error: Error): void {
    if (Date.now() - this.#lastErrorLog < 60_000) return;
    this.#lastErrorLog = Date.now();
    this.#logger.warn(`Redis for the message history: ${error.message}`);
  }
}
