import { Logger } from '@nestjs/common';
import { chatSettingsFromEnv } from './chat-config.js';
import { createChatApp } from './create-chat-app.js';

// A thin bootstrap: everything else lives in createChatApp, which the browser tests start in-process.
try {
  const { port, config } = chatSettingsFromEnv(process.env);
  const app = await createChatApp(config);
  app.enableShutdownHooks();
  await app.listen(port);
  Logger.log(`Chat is up on http://localhost:${port}`, 'ChatApp');
} catch (error) {
  Logger.error(error instanceof Error ? error.message : String(error), 'ChatApp');
  process.exit(1);
}
