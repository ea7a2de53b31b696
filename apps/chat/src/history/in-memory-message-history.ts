import type { ChatMessage } from '../chat/chat-message.js';
import { MessageHistory } from './message-history.js';

/** History for a single process (no REDIS_URL). */
export class InMemoryMessageHistory extends MessageHistory {
  readonly #messages: ChatMessage[] = [];

  async append(message: ChatMessage): Promise<void> {
    this.#messages.push(message);
    if (this.#messages.length > MessageHistory.KEPT) this.#messages.shift();
  }

  async recent(): Promise<ChatMessage[]> {
    return [...this.#messages];
  }
}
