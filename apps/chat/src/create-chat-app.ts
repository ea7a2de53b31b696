import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { SessionIoAdapter } from 'nestjs-redis-session';
import { RedisBroadcastIoAdapter } from './broadcast/redis-broadcast-io.adapter.js';
import { resolveChatConfig, type ChatConfig } from './chat-config.js';
import { ChatModule } from './chat.module.js';
import { publicDir } from './public-dir.js';

/** Defence in depth behind escaping: the page runs only its own scripts and talks only to its own origin. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The chat app, configured but not yet listening: `main.ts` listens on PORT, the tests on a free loopback port. */
export async function createChatApp(options: ChatConfig = {}): Promise<NestExpressApplication> {
  const config = resolveChatConfig(options);
  const app = await NestFactory.create<NestExpressApplication>(ChatModule.register(config), new ExpressAdapter(), {
    ...(config.logLevels ? { logger: config.logLevels } : {}),
  });
  app.disable('x-powered-by');
  // Lets the library see https behind a proxy (X-Forwarded-Proto), so that the cookie is marked Secure.
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);
  app.useStaticAssets(publicDir(), {
    setHeaders: (response) => response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY),
  });
  if (config.redisUrl) {
    app.useWebSocketAdapter(new RedisBroadcastIoAdapter(app, config.redisUrl, `${config.namespace}:socket.io`));
  } else {
    // The library says once that sessions are in this process's memory (store: 'memory').
    app.useWebSocketAdapter(new SessionIoAdapter(app));
  }
  return app;
}
