import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium, screenshot } from './browser.js';
import { startChat, stopChats, type ChatInstance } from './chat-instance.js';
import { ChatPage } from './chat-page.js';

/**
 * "At once": the library pushes `session:destroyed` to the revoked page's socket. Far below the
 * 30-minute idle timeout or any polling a page might do instead, and generous for a busy 2-core machine.
 */
const NOTICE_WITHIN_MS = 5000;

const SIGNED_OUT_ELSEWHERE = { title: 'Signed out elsewhere', reason: 'deleted' };

// "Your sessions" in Chromium, one user in several browser profiles (as on several devices), on the in-memory store.
describe('chat app in Chromium, "Your sessions"', () => {
  let browser: Browser;
  let chat: ChatInstance;
  /** At most two sessions per user: a third sign-in ends the least recently used one. */
  let limited: ChatInstance;
  const contexts: BrowserContext[] = [];

  async function signedInPage(url: string, username: string): Promise<ChatPage> {
    const context = await ChatPage.newContext(browser);
    contexts.push(context);
    const page = await ChatPage.open(context, url);
    await page.signIn(username);
    return page;
  }

  beforeAll(async () => {
    // Apps first: if Chromium cannot start, afterAll still has them to close.
    [chat, limited] = await Promise.all([startChat(), startChat({ maximumSessions: { max: 2, whenExceeded: 'expire-oldest' } })]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await stopChats(chat, limited);
  });

  it('lists both devices of one user; "Sign out" on the other row, then "Sign out everywhere else", end that page at once', async () => {
    const laptop = await signedInPage(chat.url, 'Ada');
    const phone = await signedInPage(chat.url, 'Ada');
    const laptopHandle = await laptop.ownSessionHandle();
    const phoneHandle = await phone.ownSessionHandle();
    expect(laptopHandle).not.toBe(phoneHandle);

    const rows = await laptop.openSessions();
    expect(rows).toHaveLength(2);
    // This device first, with its badge and without a "Sign out" of its own; both are headless Chromium on Linux.
    expect(rows[0]).toMatchObject({ handle: laptopHandle, device: 'Chrome on Linux', thisDevice: true, active: 'Active now', canSignOut: false });
    expect(rows[1]).toMatchObject({ handle: phoneHandle, device: 'Chrome on Linux', thisDevice: false, active: 'Active now', canSignOut: true });
    for (const row of rows) expect(row.activeDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await laptop.page.locator('#revoke-others-button').isEnabled()).toBe(true);
    await screenshot(laptop.page, '06-your-sessions');

    await laptop.signOutSession(phoneHandle);
    expect(await phone.waitForEndedNotice(NOTICE_WITHIN_MS)).toEqual(SIGNED_OUT_ELSEWHERE);
    await screenshot(phone.page, '07-signed-out-from-another-device');
    const after = await laptop.waitForSessions((shown) => shown.length === 1);
    expect(after).toEqual([expect.objectContaining({ handle: laptopHandle, thisDevice: true })]);
    expect(await laptop.page.locator('#sessions-status').textContent()).toBe('Signed out that device.');
    expect(await laptop.page.locator('#revoke-others-button').isEnabled()).toBe(false);
    // The laptop itself is still in the room.
    expect(await laptop.page.locator('#session-ended').isVisible()).toBe(false);
    await laptop.closeSessions();
    await laptop.send('Still here after signing out the phone');

    // The phone signs in again; the list, opened anew, shows it; "Sign out everywhere else" ends it.
    await phone.backToSignIn();
    await phone.signIn('Ada');
    expect(await laptop.openSessions()).toHaveLength(2);
    await laptop.page.click('#revoke-others-button');
    expect(await phone.waitForEndedNotice(NOTICE_WITHIN_MS)).toEqual(SIGNED_OUT_ELSEWHERE);
    expect(await laptop.waitForSessions((shown) => shown.length === 1)).toEqual([expect.objectContaining({ handle: laptopHandle, thisDevice: true })]);
    expect(await laptop.page.locator('#sessions-status').textContent()).toBe('Signed out 1 other session.');
    await laptop.closeSessions();
    await laptop.send('And still here after signing out everywhere else');

    // Last activity is relative to the page's clock: five minutes on, the list says so.
    await laptop.page.clock.setFixedTime(Date.now() + 5 * 60_000 + 5_000);
    const later = await laptop.openSessions();
    expect(later).toEqual([expect.objectContaining({ handle: laptopHandle, active: 'Active 5 min ago' })]);
  });

  it('with at most 2 sessions per user, a third sign-in ends the oldest page, and the list shows the 2 left', async () => {
    const first = await signedInPage(limited.url, 'Grace');
    const firstHandle = await first.ownSessionHandle();
    const second = await signedInPage(limited.url, 'Grace');
    const third = await signedInPage(limited.url, 'Grace');

    expect(await first.waitForEndedNotice(NOTICE_WITHIN_MS)).toEqual(SIGNED_OUT_ELSEWHERE);
    await screenshot(first.page, '08-oldest-session-ended-by-the-limit');

    const rows = await third.openSessions();
    const secondHandle = await second.ownSessionHandle();
    expect(rows.map((row) => ({ handle: row.handle, thisDevice: row.thisDevice }))).toEqual([
      { handle: await third.ownSessionHandle(), thisDevice: true },
      { handle: secondHandle, thisDevice: false },
    ]);
    expect(rows.map((row) => row.handle)).not.toContain(firstHandle);
    expect(await second.page.locator('#session-ended').isVisible()).toBe(false);
    await screenshot(third.page, '08-two-sessions-left');
  });
});
