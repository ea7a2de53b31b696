import type { INestApplication } from '@nestjs/common';
import { createChatApp } from '../../apps/chat/src/create-chat-app.js';
import type { ChatConfig } from '../../apps/chat/src/chat-config.js';

export interface ChatInstance {
  app: INestApplication;
  /** Always on 127.0.0.1: instances on other ports of the same host share the session cookie, as a browser does. */
  url: string;
}

/** The sample chat app, started in-process from its TypeScript sources on a free loopback port. */
export async function startChat(config: ChatConfig = {}): Promise<ChatInstance> {
  const app = await createChatApp({ logLevels: ['error', 'warn'], ...config });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

export async function stopChats(...instances: (ChatInstance | undefined)[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance?.app.close()));
}
