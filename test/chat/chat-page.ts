import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

/** One row of "Your sessions" as the page shows it. */
export interface SessionRow {
  handle: string;
  device: string;
  /** The "This device" badge is shown. */
  thisDevice: boolean;
  /** "Active now", "Active 5 min ago", … */
  active: string;
  /** The `<time datetime>` of the last activity. */
  activeDateTime: string;
  /** The row has a "Sign out" button. */
  canSignOut: boolean;
}

/** Generous: the machine is shared; every wait ends as soon as the page gets there. */
const WAIT_MS = 10_000;

/**
 * One tab of the chat, driven the way a person would: through the form, the message box and
 * the buttons. Waits end when the page shows the expected state.
 */
export class ChatPage {
  constructor(readonly page: Page) {}

  /** A fresh browser profile (own cookies), as a different person on another computer. */
  static async newContext(browser: Browser): Promise<BrowserContext> {
    return browser.newContext({ viewport: { width: 1100, height: 680 }, locale: 'en-GB', timezoneId: 'Europe/London' });
  }

  static async open(context: BrowserContext, url: string): Promise<ChatPage> {
    const page = await context.newPage();
    await page.goto(url);
    return new ChatPage(page);
  }

  get loginForm(): Locator {
    return this.page.locator('#login-form');
  }

  get chat(): Locator {
    return this.page.locator('#chat-view');
  }

  async signIn(username: string): Promise<void> {
    await this.loginForm.waitFor({ timeout: WAIT_MS });
    await this.page.fill('#username', username);
    await this.page.click('#login-button');
    await this.waitUntilInRoom(username);
  }

  /** The room is shown for this user and its socket is connected. */
  async waitUntilInRoom(username: string): Promise<void> {
    await this.chat.waitFor({ timeout: WAIT_MS });
    await this.page.locator('#me-name', { hasText: username }).waitFor({ timeout: WAIT_MS });
    await this.page.locator('#send-button:enabled').waitFor({ timeout: WAIT_MS });
  }

  async send(text: string): Promise<void> {
    await this.page.fill('#message-input', text);
    await this.page.keyboard.press('Enter');
    // Cleared once the server acknowledged it.
    await this.page.locator('#message-input').and(this.page.locator(':placeholder-shown')).waitFor({ timeout: WAIT_MS });
  }

  /** Waits until a message with exactly this text is shown; returns its list item. */
  async waitForMessage(text: string): Promise<Locator> {
    const item = this.page.locator('.message').filter({ has: this.page.locator('.message-text').getByText(text, { exact: true }) });
    await item.first().waitFor({ timeout: WAIT_MS });
    return item.first();
  }

  /** Waits until the online list is exactly these names. */
  async waitForOnline(usernames: string[]): Promise<void> {
    const expected = [...usernames].sort((a, b) => a.localeCompare(b));
    const deadline = Date.now() + WAIT_MS;
    let shown: string[] = [];
    while (Date.now() < deadline) {
      shown = await this.page.locator('#online-list .name').allTextContents();
      if (JSON.stringify(shown) === JSON.stringify(expected)) return;
      await this.page.waitForTimeout(100);
    }
    throw new Error(`online list is ${JSON.stringify(shown)}, expected ${JSON.stringify(expected)}`);
  }

  async signOut(): Promise<void> {
    await this.page.click('#logout-button');
    await this.loginForm.waitFor({ timeout: WAIT_MS });
  }

  /** Waits for the "session ended" notice and returns its title. */
  async waitForEndedNotice(timeoutMs = WAIT_MS): Promise<{ title: string; reason: string }> {
    const dialog = this.page.locator('#session-ended');
    await dialog.waitFor({ timeout: timeoutMs });
    return { title: (await this.page.locator('#session-ended-title').textContent()) ?? '', reason: (await dialog.getAttribute('data-reason')) ?? '' };
  }

  /** Opens "Your sessions" from the top bar and waits until its list is loaded. */
  async openSessions(): Promise<SessionRow[]> {
    await this.page.click('#sessions-button');
    await this.page.locator('#sessions-panel').waitFor({ timeout: WAIT_MS });
    return this.waitForSessions((rows) => rows.length > 0);
  }

  async closeSessions(): Promise<void> {
    await this.page.click('#sessions-close');
    await this.page.locator('#sessions-panel').waitFor({ state: 'hidden', timeout: WAIT_MS });
  }

  /** Waits until the loaded list satisfies `accept` (e.g. has 2 rows); returns what it shows. */
  async waitForSessions(accept: (rows: SessionRow[]) => boolean): Promise<SessionRow[]> {
    const deadline = Date.now() + WAIT_MS;
    let rows: SessionRow[] = [];
    while (Date.now() < deadline) {
      rows = await this.sessionRows();
      if (rows.length > 0 && (await this.page.locator('#session-list[aria-busy="false"]').count()) === 1 && accept(rows)) return rows;
      await this.page.waitForTimeout(100);
    }
    throw new Error(`the sessions list shows ${JSON.stringify(rows)}, not what was expected`);
  }

  /** What "Your sessions" shows now, row by row. */
  async sessionRows(): Promise<SessionRow[]> {
    return this.page.locator('#session-list .session-row').evaluateAll((items) =>
      items.map((item) => {
        const active = item.querySelector('time.session-active');
        return {
          handle: item.getAttribute('data-handle') ?? '',
          device: item.querySelector('.session-device')?.textContent ?? '',
          thisDevice: item.querySelector('.this-device:not([hidden])') !== null,
          active: active?.textContent ?? '',
          activeDateTime: active?.getAttribute('datetime') ?? '',
          canSignOut: item.querySelector('button.session-revoke') !== null,
        };
      }),
    );
  }

  /** Clicks "Sign out" on the row of the session that `handle` names. */
  async signOutSession(handle: string): Promise<void> {
    await this.page.locator(`#session-list .session-row[data-handle="${handle}"] button.session-revoke`).click({ timeout: WAIT_MS });
  }

  /** This page's own session handle, as the server names it in the list (asked with the page's cookie). */
  async ownSessionHandle(): Promise<string> {
    const handle = await this.page.evaluate(async () => {
      const { sessions } = (await (await fetch('/api/sessions')).json()) as { sessions: { handle: string; current: boolean }[] };
      return sessions.find((session) => session.current)?.handle;
    });
    if (!handle) throw new Error('this page has no current session');
    return handle;
  }

  async backToSignIn(): Promise<void> {
    await this.page.click('#back-to-login');
    await this.loginForm.waitFor({ timeout: WAIT_MS });
  }
}
