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

  it('MAX_SESSIONS_PER_USER limits the sessions per user, ending the least recently used one beyond it', () => {
    expect(chatSettingsFromEnv({}).config.maximumSessions).toBeUndefined();
    expect(chatSettingsFromEnv({ MAX_SESSIONS_PER_USER: ' 3 ' }).config.maximumSessions).toEqual({ max: 3, whenExceeded: 'expire-oldest' });
    expect(chatSettingsFromEnv({ MAX_SESSIONS_PER_USER: '' }).config.maximumSessions).toBeUndefined();
    for (const bad of ['0', '-1', '2.5', 'two']) {
      const expected = `MAX_SESSIONS_PER_USER must be an integer between 1 and ${Number.MAX_SAFE_INTEGER}, got "${bad}"`;
      expect(() => chatSettingsFromEnv({ MAX_SESSIONS_PER_USER: bad })).toThrow(expected);
    }
  });

  it('names the variable that is wrong', () => {
    expect(() => chatSettingsFromEnv({ PORT: 'eighty' })).toThrow('PORT must be an integer between 0 and 65535, got "eighty"');
    expect(() => chatSettingsFromEnv({ SESSION_TIMEOUT_SECONDS: '0' })).toThrow(/SESSION_TIMEOUT_SECONDS must be an integer between 1 and/);
  });
});
