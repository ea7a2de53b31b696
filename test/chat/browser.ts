import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromiumInstalled } from '../harness/chromium.js';

/**
 * Debian's Chromium (no downloaded browser build), headless, without background traffic; installed
 * when missing (root + apt), so that `npm test` works on a fresh machine. CHROMIUM_PATH overrides it.
 */
export function launchChromium(): Promise<Browser> {
  const override = process.env.CHROMIUM_PATH;
  if (override !== undefined && !existsSync(override)) throw new Error(`CHROMIUM_PATH=${override} does not exist`);
  return chromium.launch({ executablePath: override ?? ensureChromiumInstalled(), args: CHROMIUM_ARGS });
}

export const SCREENSHOT_DIR = 'test-artifacts/screenshots';

/** Saves what the page shows now, for people to look at (test-artifacts/ is not committed). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // The pointer rests where the last click was: move it out of the way of hover styles.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png` });
}
