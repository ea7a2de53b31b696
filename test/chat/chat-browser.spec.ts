import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium, screenshot } from './browser.js';
import { startChat, stopChats, type ChatInstance } from './chat-instance.js';
import { ChatPage } from './chat-page.js';

// One instance on the embedded in-memory store (no REDIS_URL), as `npm run chat` runs it.
describe('chat app in Chromium, one instance', () => {
  let browser: Browser;
  let chat: ChatInstance;
  /** A second app whose sessions end after 3 idle seconds. */
  let shortLived: ChatInstance;
  const contexts: BrowserContext[] = [];

  async function newContext(): Promise<BrowserContext> {
    const context = await ChatPage.newContext(browser);
    contexts.push(context);
    return context;
  }

  beforeAll(async () => {
    // Apps first: if Chromium cannot start, afterAll still has them to close.
    [chat, shortLived] = await Promise.all([startChat(), startChat({ sessionTimeoutSeconds: 3 })]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await stopChats(chat, shortLived);
  });

  it('two people in two browsers chat with each other, and see who is online', async () => {
    const ada = await ChatPage.open(await newContext(), chat.url);
    await ada.loginForm.waitFor();
    await screenshot(ada.page, '01-sign-in');

    await ada.signIn('Ada');
    await ada.waitForOnline(['Ada']);
    const grace = await ChatPage.open(await newContext(), chat.url);
    await grace.signIn('Grace');
    await ada.waitForOnline(['Ada', 'Grace']);

    await ada.send('Hi Grace! Is the build green?');
    const atGrace = await grace.waitForMessage('Hi Grace! Is the build green?');
    expect(await atGrace.locator('.message-author').textContent()).toBe('Ada');
    expect(await atGrace.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    await grace.send('All green. Shipping it after lunch.');
    await grace.send('Want to pair on the release notes?');
    await ada.send('Sure — 12:30 in the usual room?');
    await grace.waitForMessage('Sure — 12:30 in the usual room?');
    await screenshot(grace.page, '02-two-people-chatting');
    await screenshot(ada.page, '02-two-people-chatting-other-side');

    const hostile = 'This <b>stays</b> text: <img src=x onerror="document.title=\'pwned\'">';
    await grace.send(hostile);
    const shown = await ada.waitForMessage(hostile);
    // Shown as typed: no element was made from it, no handler ran.
    expect(await shown.locator('.message-text img, .message-text b').count()).toBe(0);
    expect(await ada.page.title()).not.toBe('pwned');
  });

  it('signing out in one tab shows the signed-out notice in the other tab of the same browser', async () => {
    const context = await newContext();
    const first = await ChatPage.open(context, chat.url);
    await first.signIn('Linus');
    // The second tab shares the cookie: it is signed in without a form.
    const second = await ChatPage.open(context, chat.url);
    await second.waitUntilInRoom('Linus');

    await first.signOut();
    const notice = await second.waitForEndedNotice();
    expect(notice).toEqual({ title: 'Signed out elsewhere', reason: 'deleted' });
    await screenshot(second.page, '03-signed-out-in-another-tab');
    // The tab that signed out just shows the form, without a notice.
    expect(await first.page.locator('#session-ended').isVisible()).toBe(false);

    await second.backToSignIn();
    await second.signIn('Linus');
  });

  it('an idle page shows the expired notice once its 3 s session has ended', async () => {
    const idle = await ChatPage.open(await newContext(), shortLived.url);
    await idle.signIn('Margaret');
    const started = Date.now();
    const notice = await idle.waitForEndedNotice(10_000);
    expect(notice).toEqual({ title: 'Session expired — sign in again', reason: 'expired' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    await screenshot(idle.page, '04-session-expired');

    await idle.backToSignIn();
    expect(await idle.page.locator('#username').isVisible()).toBe(true);
  });
});
