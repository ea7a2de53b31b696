import { describe, expect, it } from '@jest/globals';
import { chatSettingsFromEnv } from '../../apps/chat/src/chat-config.js';

describe('chat settings from the environment', () => {
  it('defaults to port 3000, the in-memory store and 30-minute sessions', () => {
    expect(chatSettingsFromEnv({})).toEqual({
      port: 3000,
      config: { redisUrl: undefined, sessionTimeoutSeconds: 1800, namespace: undefined, trustProxy: undefined },
    });
  });

  it('reads PORT, REDIS_URL, SESSION_TIMEOUT_SECONDS, CHAT_NAMESPACE and TRUST_PROXY', () => {
    const env = { PORT: '8080', REDIS_URL: 'redis://cache:6379', SESSION_TIMEOUT_SECONDS: '60', CHAT_NAMESPACE: 'demo', TRUST_PROXY: '1' };
    expect(chatSettingsFromEnv(env)).toEqual({
      port: 8080,
      config: { redisUrl: 'redis://cache:6379', sessionTimeoutSeconds: 60, namespace: 'demo', trustProxy: 1 },
    });
    expect(chatSettingsFromEnv({ TRUST_PROXY: 'true' }).config.trustProxy).toBe(true);
    expect(chatSettingsFromEnv({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).config.trustProxy).toBe('loopback, 10.0.0.0/8');
  });

  it('names the variable that is wrong', () => {
    expect(() => chatSettingsFromEnv({ PORT: 'eighty' })).toThrow('PORT must be an integer between 0 and 65535, got "eighty"');
    expect(() => chatSettingsFromEnv({ SESSION_TIMEOUT_SECONDS: '0' })).toThrow(/SESSION_TIMEOUT_SECONDS must be an integer between 1 and/);
  });
});
