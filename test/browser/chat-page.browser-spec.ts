import { jest } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The built-in page (src/web/public) in a real headless Chromium against the real app, which talks
 * to the Gemini emulator through the real SDK. Needs Chromium: scripts/ensure-chromium.mjs.
 */

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let t: TestApp;
const contexts: BrowserContext[] = [];
/** Uncaught exceptions in the page: any is a failure of the test that caused it. */
const pageErrors: string[] = [];

jest.setTimeout(15_000);

beforeAll(async () => {
  [browser, t] = await Promise.all([
    chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS }),
    startTestApp(),
  ]);
}, 30_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** A fresh browser profile (empty localStorage) with the page loaded and started. */
async function openPage(baseUrl = t.baseUrl): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  // Fail on the step that hangs, with its selector, well before jest's own timeout.
  context.setDefaultTimeout(7_000);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${baseUrl}/`);
  await page.waitForSelector('body[data-ready]');
  return page;
}

const models = (page: Page) => page.locator('#messages [data-role="model"]');

/** Types a message, presses Enter and waits for the reply to be on the page. */
async function send(page: Page, text: string): Promise<void> {
  const before = await models(page).count();
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
  await models(page).nth(before).waitFor();
}

async function getJson(path: string): Promise<any> {
  const response = await fetch(`${t.baseUrl}${path}`);
  expect(response.status).toBe(200);
  return response.json();
}

/** "$0.0003568" → 0.0003568 */
function dollars(text: string): number {
  const match = /\$(\d+\.\d+)/.exec(text);
  if (!match) throw new Error(`no dollar amount in "${text}"`);
  return Number(match[1]);
}

function tokens(text: string): number {
  const match = /([\d,]+) tokens?/.exec(text);
  if (!match) throw new Error(`no token count in "${text}"`);
  return Number(match[1].replace(/,/g, ''));
}

describe('the built-in chat page', () => {
  it('starts a session, sends messages and shows each reply with its tokens and cost', async () => {
    const page = await openPage();
    await page.click('#new-session');
    await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
    const sessionId = await page.inputValue('#session-id');
    expect(await page.textContent('#session-total')).toBe('Session total: $0.00 · 0 tokens');

    await send(page, 'What is the capital of France?');
    const reply = models(page).first();
    expect(await reply.locator('.reply-text').textContent()).toContain('What is the capital of France?');
    expect(await page.locator('#messages [data-role="user"]').first().textContent()).toBe('What is the capital of France?');
    expect(await page.inputValue('#message')).toBe('');

    const meta = (await reply.locator('.reply-meta').textContent())!;
    expect(meta).toMatch(/^\d+ tokens \(\d+ in, \d+ out(, \d+ thinking)?\) · \$0\.\d+$/);
    const history = await getJson(`/sessions/${sessionId}/history`);
    const stored = history.messages[1];
    expect(stored.role).toBe('model');
    expect(stored.cost_status).toBe('priced');
    expect(stored.cost_usd).toBeGreaterThan(0);
    expect(dollars(meta)).toBeCloseTo(stored.cost_usd, 12);
    expect(tokens(meta)).toBe(stored.usage.total_tokens);
    expect(meta).toContain(`(${stored.usage.prompt_tokens} in, ${stored.usage.output_tokens} out`);

    await send(page, 'And of Italy?');
    expect(await models(page).nth(1).locator('.reply-text').textContent()).toContain('And of Italy?');
    const session = await getJson(`/sessions/${sessionId}`);
    const total = (await page.textContent('#session-total'))!;
    expect(session.message_count).toBe(4);
    expect(dollars(total)).toBeCloseTo(session.total_cost_usd, 12);
    expect(dollars(total)).toBeGreaterThan(stored.cost_usd);
    expect(tokens(total)).toBe(session.total_tokens);

    await page.screenshot({ path: '/tmp/page.png', fullPage: true });
  });

  it('shows model output as text, never as HTML', async () => {
    const page = await openPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const hostile = 'Look: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>';
    t.emulator.enqueue({ text: hostile });

    await send(page, 'Show me some HTML');
    expect(await models(page).first().locator('.reply-text').textContent()).toBe(hostile);
    expect(await page.locator('#messages').innerText()).toContain('<img src=x onerror="window.__xss=1">');
    await page.waitForTimeout(200); // an injected <img> would have failed to load and run onerror by now
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    expect(await page.locator('#messages img, #messages script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('shows an upstream error, keeps the typed message, and lets the person retry', async () => {
    const page = await openPage();
    t.emulator.enqueue({ status: 500 });
    await page.fill('#message', 'Will this fail?');
    await page.click('#send');

    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.textContent()).toMatch(/^UPSTREAM_ERROR: \S.+/);
    expect(await page.inputValue('#message')).toBe('Will this fail?');
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await page.isEnabled('#send')).toBe(true);

    // Retry: while the turn is in flight Send is disabled and the thinking indicator shows.
    t.emulator.enqueue({ delayMs: 700 });
    await page.click('#send');
    await page.locator('#thinking').waitFor({ state: 'visible' });
    expect(await page.isDisabled('#send')).toBe(true);
    await models(page).first().waitFor();
    expect(await models(page).first().locator('.reply-text').textContent()).toContain('Will this fail?');
    expect(await error.isHidden()).toBe(true);
    expect(await page.locator('#thinking').isHidden()).toBe(true);
    expect(await page.isEnabled('#send')).toBe(true);
    expect(await page.inputValue('#message')).toBe('');
  });

  it('shows the offline banner only when replies come from the bundled emulator', async () => {
    const online = await openPage();
    await online.waitForSelector('body[data-gemini="configured"]');
    expect(await online.locator('#offline-banner').isHidden()).toBe(true);

    const offline = await startTestApp({ offline: true });
    try {
      const page = await openPage(offline.baseUrl);
      const banner = page.locator('#offline-banner');
      await banner.waitFor({ state: 'visible' });
      expect(await banner.textContent()).toContain(
        'Offline mode: replies come from the bundled Gemini emulator, not from Google.',
      );
    } finally {
      await Promise.all(contexts.splice(0).map((context) => context.close()));
      await offline.close();
    }
  });

  it('reopens the last session with its history after a reload, and starts fresh if it is gone', async () => {
    const page = await openPage();
    await send(page, 'first question');
    await send(page, 'second question');
    const sessionId = await page.inputValue('#session-id');
    const totalBefore = await page.textContent('#session-total');

    await page.reload();
    await page.waitForSelector('body[data-ready]');
    expect(await page.inputValue('#session-id')).toBe(sessionId);
    const items = page.locator('#messages > [data-role]');
    expect(await items.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.role))).toEqual([
      'user',
      'model',
      'user',
      'model',
    ]);
    expect(await items.nth(0).textContent()).toBe('first question');
    expect(await items.nth(3).locator('.reply-text').textContent()).toContain('second question');
    expect(await items.nth(3).locator('.reply-meta').textContent()).toMatch(/tokens .* · \$0\.\d+$/);
    expect(await page.textContent('#session-total')).toBe(totalBefore);

    await page.evaluate(() => localStorage.setItem('gemini-chat.session-id', '00000000-0000-4000-8000-000000000000'));
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.textContent('#session-total')).toBe('No session');
  });
});
