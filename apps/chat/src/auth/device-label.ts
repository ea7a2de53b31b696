/**
 * Browsers by the User-Agent token that names them, most specific first (Edge and Opera also say
 * "Chrome", Chrome also says "Safari"). Safari by `Version/` as well: the library stores the
 * User-Agent compacted to 64 characters, which can cut Safari's final `Safari/…` token.
 */
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\b(?:Headless)?Chrome\/|\bCriOS\/|\bChromium\//, 'Chrome'],
  [/\bSafari\/|\bVersion\/\d/, 'Safari'],
];

/** Systems, most specific first (an iPhone says "like Mac OS X", Android says "Linux"). */
const SYSTEMS: [RegExp, string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/**
 * A short name for the device a session was signed in from, for the "Your sessions" list:
 * "Chrome on Linux", "Safari on iPhone", "Firefox on Windows"; "Unknown device" when the
 * User-Agent names neither a browser nor a system we know. Reads a full User-Agent as well as the
 * library's compacted one (`(X11; Linux x86_64) Chrome/131.0.0.0`). A guess for people, never a security check.
 */
export function deviceLabel(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown device';
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `Unknown browser on ${system}`;
  return 'Unknown device';
}
