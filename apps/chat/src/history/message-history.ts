import type { ChatMessage } from '../chat/chat-message.js';

/** The room's recent messages, shown to a page when it connects (where they live depends on the store). */
export abstract class MessageHistory {
  static readonly KEPT = 50;

  abstract append(message: ChatMessage): Promise<void>;

  /** The latest messages, oldest first. */
  abstract recent(): Promise<ChatMessage[]>;
}
