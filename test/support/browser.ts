import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { APP_HOOK_TIMEOUT_MS, startTestApp } from './test-app.js';
import type { TestApp, TestAppOptions } from './test-app.js';

/** As root in a closed network: no sandbox, and none of Chromium's calls home. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // A host name that is not localhost, for the page served over plain HTTP under a real name.
  '--host-resolver-rules=MAP chat.example.test 127.0.0.1',
];

/** Resolves to 127.0.0.1 in the test browser: a plain-HTTP host that is not localhost. */
export const NAMED_HOST = 'chat.example.test';

export interface PageHarness {
  /** The app the pages talk to (started in beforeAll). */
  app: TestApp;
  /** A fresh browser profile (empty storage) with the page loaded and started. */
  openPage(baseUrl?: string, viewport?: { width: number; height: number }, beforeLoad?: (page: Page) => Promise<void>): Promise<Page>;
}

/**
 * Headless Chromium (scripts/ensure-chromium.mjs) and a real app for the describe block or file
 * it is called in. Every test gets fresh profiles, closed after it; an uncaught error in a page
 * fails the test that caused it.
 */
export function usePageHarness(options: TestAppOptions = {}): PageHarness {
  let browser: Browser;
  let app: TestApp;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [browser, app] = await Promise.all([
      chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS }),
      startTestApp(options),
    ]);
  }, APP_HOOK_TIMEOUT_MS);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    expect(pageErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  }, APP_HOOK_TIMEOUT_MS);

  return {
    app: new Proxy({} as TestApp, {
      get: (_target, property) => {
        if (!app) throw new Error('the test app is started in beforeAll');
        return app[property as keyof TestApp];
      },
    }),
    async openPage(baseUrl = app.baseUrl, viewport = { width: 1000, height: 760 }, beforeLoad) {
      const context = await browser.newContext({ viewport });
      // Fail on the step that hangs, with its selector, well before jest's own timeout.
      context.setDefaultTimeout(7_000);
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await beforeLoad?.(page);
      await page.goto(`${baseUrl}/`);
      await page.waitForSelector('body[data-ready]');
      return page;
    },
  };
}

/** Finished replies: a reply being streamed carries data-streaming="true" until its `done`. */
export const models = (page: Page) => page.locator('#messages [data-role="model"]:not([data-streaming])');

/** Types a message, presses Enter and waits for the reply to be on the page. */
export async function send(page: Page, text: string): Promise<void> {
  const before = await models(page).count();
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
  await models(page).nth(before).waitFor();
}

/** Switches the page to another user id (as a person does: type it, leave the field) and waits for its list. */
export async function useUser(page: Page, userId: string): Promise<void> {
  await page.fill('#user-id', userId);
  await page.press('#user-id', 'Tab');
  await page.waitForFunction(
    (id) => document.querySelector('#session-list-user')?.textContent === `of ${id}` && !document.querySelector('#session-list[aria-busy]'),
    userId,
  );
}

let users = 0;
/** A user id of its own for each test, so lists and usage see only that test's sessions. */
export const freshUser = (name: string) => `${name}-${process.pid}-${++users}`;
