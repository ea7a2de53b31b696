import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext } from 'playwright-core';
import { sharedRedisUrl, uniqueNamespace } from '../harness/redis.js';
import { launchChromium, screenshot } from './browser.js';
import { startChat, stopChats, type ChatInstance } from './chat-instance.js';
import { ChatPage } from './chat-page.js';

// Two instances on two ports sharing one Redis, as `npm run chat:cluster -- 2` runs them.
describe('chat app in Chromium, two instances sharing Redis', () => {
  let browser: Browser;
  let a: ChatInstance;
  let b: ChatInstance;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const config = { redisUrl: sharedRedisUrl(), namespace: uniqueNamespace('chat') };
    // Apps first: if Chromium cannot start, afterAll still has them to close.
    [a, b] = await Promise.all([startChat(config), startChat(config)]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await stopChats(a, b);
  });

  it('a sign-in on one port is honoured on the other, and messages and presence cross instances', async () => {
    const adaContext = await ChatPage.newContext(browser);
    const graceContext = await ChatPage.newContext(browser);
    contexts.push(adaContext, graceContext);

    const adaOnA = await ChatPage.open(adaContext, a.url);
    await adaOnA.signIn('Ada');
    // Same browser, same host, other port: the SESSION cookie goes along and instance B knows it.
    const adaOnB = await ChatPage.open(adaContext, b.url);
    await adaOnB.waitUntilInRoom('Ada');
    expect(await adaOnB.loginForm.isVisible()).toBe(false);

    const graceOnB = await ChatPage.open(graceContext, b.url);
    await graceOnB.signIn('Grace');
    await adaOnA.waitForOnline(['Ada', 'Grace']);

    await graceOnB.send('Hello from instance B');
    await adaOnA.waitForMessage('Hello from instance B');
    await adaOnA.send('And back from instance A');
    await graceOnB.waitForMessage('And back from instance A');
    await screenshot(adaOnA.page, '05-instance-a');
    await screenshot(graceOnB.page, '05-instance-b');

    // Signing out on B closes Ada's page on A.
    await adaOnB.signOut();
    expect(await adaOnA.waitForEndedNotice()).toEqual({ title: 'Signed out elsewhere', reason: 'deleted' });
    await graceOnB.waitForOnline(['Grace']);
  });

  it('"Sign out" in "Your sessions" on B ends the other device\'s page on A', async () => {
    const laptopContext = await ChatPage.newContext(browser);
    const phoneContext = await ChatPage.newContext(browser);
    contexts.push(laptopContext, phoneContext);
    const laptopOnA = await ChatPage.open(laptopContext, a.url);
    await laptopOnA.signIn('Joan');
    const phoneOnB = await ChatPage.open(phoneContext, b.url);
    await phoneOnB.signIn('Joan');
    const laptopHandle = await laptopOnA.ownSessionHandle();

    const rows = await phoneOnB.openSessions();
    expect(rows.map((row) => ({ handle: row.handle, thisDevice: row.thisDevice }))).toEqual([
      { handle: await phoneOnB.ownSessionHandle(), thisDevice: true },
      { handle: laptopHandle, thisDevice: false },
    ]);
    await phoneOnB.signOutSession(laptopHandle);
    expect(await laptopOnA.waitForEndedNotice(5000)).toEqual({ title: 'Signed out elsewhere', reason: 'deleted' });
    expect(await phoneOnB.waitForSessions((shown) => shown.length === 1)).toEqual([expect.objectContaining({ thisDevice: true })]);
  });
});
