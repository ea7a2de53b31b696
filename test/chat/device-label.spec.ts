import { describe, expect, it } from '@jest/globals';
import { deviceLabel } from '../../apps/chat/src/auth/device-label.js';

describe('deviceLabel', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36', 'Chrome on Linux'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari on iPhone',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1',
      'Chrome on iPhone',
    ],
    ['Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15', 'Firefox on iPad'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox on Windows'],
    ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 'Edge on Windows'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0', 'Opera on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on macOS'],
    ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
    [
      'Mozilla/5.0 (Linux; Android 13; SM-S901B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
      'Samsung Internet on Android',
    ],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on ChromeOS'],
  ])('%s is "%s"', (userAgent, label) => {
    expect(deviceLabel(userAgent)).toBe(label);
  });

  // As the library stores them (SessionInfo.userAgent): compatibility tokens dropped, at most 64 characters.
  it.each([
    ['(X11; Linux x86_64) Chrome/131.0.0.0', 'Chrome on Linux'],
    ['(X11; Linux x86_64) HeadlessChrome/131.0.0.0', 'Chrome on Linux'],
    ['(iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Mobile/1', 'Safari on iPhone'],
    ['(iPhone; CPU iPhone OS 17_5 like Mac OS X) CriOS/126.0.6478.54 M', 'Chrome on iPhone'],
    ['(Windows NT 10.0; Win64; x64; rv:127.0) Firefox/127.0', 'Firefox on Windows'],
    ['(Windows NT 10.0; Win64; x64) Chrome/126.0.0.0 Edg/126.0.2592.87', 'Edge on Windows'],
    ['(Macintosh; Intel Mac OS X 10_15_7) Version/17.5 Safari/605.1', 'Safari on macOS'],
    ['(Linux; Android 13; SM-S901B) SamsungBrowser/25.0 Chrome/121.0.0', 'Samsung Internet on Android'],
  ])('compacted %s is "%s"', (userAgent, label) => {
    expect(deviceLabel(userAgent)).toBe(label);
  });

  it('names what it can tell, and says "Unknown device" when it can tell nothing', () => {
    expect(deviceLabel('Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36')).toBe('Chrome');
    expect(deviceLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64) SomeClient/1.0')).toBe('Unknown browser on Windows');
    for (const userAgent of [undefined, '', 'node', 'curl/8.5.0', 'python-requests/2.32.3']) expect(deviceLabel(userAgent)).toBe('Unknown device');
  });
});
