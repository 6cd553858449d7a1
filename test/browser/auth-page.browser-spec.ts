import { jest } from '@jest/globals';
import type { Page, Request } from 'playwright-core';
import { freshUser, models, send, useUser, usePageHarness } from '../support/browser.js';
import { png } from '../support/file-samples.js';
import { elapse, waitFor } from '../support/wait.js';

/**
 * The built-in page against an app with ADMIN_API_KEY set: it asks for a key, sends it as a
 * Bearer token, and retries a send with the same Idempotency-Key so that a turn the server already
 * finished is replayed instead of run (and billed) twice. Needs Chromium: scripts/ensure-chromium.mjs.
 */

const ADMIN_KEY = 'admin-key-for-browser-tests-0123';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

jest.setTimeout(20_000);

const harness = usePageHarness({ env: { ADMIN_API_KEY: ADMIN_KEY } });
const t = harness.app;

/** The API requests a page made (fetches, not its own files), in order. */
type Sent = { method: string; path: string; authorization?: string; idempotencyKey?: string };

/** A fresh browser profile with the page loaded and started; records its API requests. */
async function openPage(): Promise<{ page: Page; sent: Sent[] }> {
  const sent: Sent[] = [];
  const page = await harness.openPage(undefined, undefined, async (p) => {
    p.on('request', (request: Request) => {
      if (!['fetch', 'xhr'].includes(request.resourceType())) return;
      const url = new URL(request.url());
      const headers = request.headers();
      sent.push({
        method: request.method(),
        path: url.pathname + url.search,
        authorization: headers['authorization'],
        idempotencyKey: headers['idempotency-key'],
      });
    });
  });
  return { page, sent };
}

async function useKey(page: Page, key: string): Promise<void> {
  await page.fill('#api-key', key);
  await page.click('#save-key');
}

async function waitForListStatus(page: Page, text: string): Promise<void> {
  await page.waitForFunction((want) => document.querySelector('#session-list-status')?.textContent === want, text);
}

/** The API as the admin: [status, JSON body]. */
async function asAdmin(method: string, path: string, body?: unknown): Promise<[number, any]> {
  const response = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return [response.status, text ? JSON.parse(text) : null];
}

async function history(sessionId: string): Promise<any[]> {
  const [status, body] = await asAdmin('GET', `/sessions/${sessionId}/history`);
  expect(status).toBe(200);
  return body.messages.map((m: any) => [m.role, m.content]);
}

const apiPaths = (sent: Sent[]) => sent.map((request) => `${request.method} ${request.path}`);

describe('the chat page when the service needs an API key', () => {
  it('asks for a key and sends nothing but /health until one is entered; a refused key asks again', async () => {
    const { page, sent } = await openPage();
    const prompt = page.locator('#key-prompt');
    await prompt.waitFor({ state: 'visible' });
    expect(await prompt.textContent()).toContain('This service needs an API key');
    expect(await page.getAttribute('#api-key', 'type')).toBe('password');
    expect(await page.locator('#forget-key').isHidden()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);

    // Trying anyway fires nothing, and says nothing but the prompt.
    const user = freshUser('keyless');
    await page.fill('#user-id', user);
    await page.press('#user-id', 'Tab');
    await page.fill('#message', 'Hello, is a key needed?');
    await page.press('#message', 'Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key'); // where the page points
    await page.click('#new-session');
    await page.click('#usage-button');
    await page.waitForFunction(() => document.querySelector('#usage-status')?.textContent === 'Enter the API key to see the usage.');
    await elapse(300, 'a request the page wrongly sent without a key would have gone by now');
    expect(apiPaths(sent)).toEqual(['GET /health']);
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await prompt.isVisible()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('#retry-send').isHidden()).toBe(true);
    await page.click('#usage-close');
    await page.screenshot({ path: '/tmp/page-key.png' });

    // The admin key: the page loads, and a conversation works end to end.
    await useKey(page, ADMIN_KEY);
    await prompt.waitFor({ state: 'hidden' });
    await waitForListStatus(page, 'No sessions yet.');
    expect(await page.inputValue('#api-key')).toBe('');
    expect(await page.locator('#forget-key').isVisible()).toBe(true);
    expect(await page.evaluate(() => [sessionStorage.getItem('gemini-chat.api-key'), localStorage.getItem('gemini-chat.api-key')])).toEqual(
      [ADMIN_KEY, null],
    );
    await send(page, 'Hello, is a key needed?');
    expect(await models(page).first().locator('.reply-text').textContent()).toContain('Hello, is a key needed?');
    expect(await page.inputValue('#message')).toBe('');
    const sessionId = await page.inputValue('#session-id');
    expect(await history(sessionId)).toEqual([
      ['user', 'Hello, is a key needed?'],
      ['model', expect.stringContaining('Hello, is a key needed?')],
    ]);
    const [, session] = await asAdmin('GET', `/sessions/${sessionId}`);
    expect(session.user_id).toBe(user);
    // Every API call after /health carried the key.
    const calls = sent.slice(1);
    expect(calls.map((request) => request.path)).toEqual(expect.arrayContaining(['/sessions', `/sessions/${sessionId}/messages`]));
    expect(calls.filter((request) => request.authorization !== `Bearer ${ADMIN_KEY}`)).toEqual([]);

    // The key outlives a reload of the tab.
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await models(page).first().waitFor();
    expect(await prompt.isHidden()).toBe(true);

    // "Forget key" drops it and what it showed.
    await page.click('#forget-key');
    await prompt.waitFor({ state: 'visible' });
    expect(await prompt.textContent()).toContain('needs an API key');
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('gemini-chat.api-key'))).toBeNull();

    // A wrong key is refused by the server: the prompt again, no generic error, and no more requests.
    const refusals: number[] = [];
    page.on('response', (response) => {
      if (response.status() === 401) refusals.push(response.status());
    });
    await useKey(page, 'not-the-right-key-0123456789');
    await page.waitForFunction(() => /refused/.test(document.querySelector('#key-prompt')?.textContent ?? ''));
    expect(refusals.length).toBeGreaterThan(0);
    expect(await prompt.isVisible()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('gemini-chat.api-key'))).toBeNull();
    await elapse(200, 'the requests the refused key set off are all sent: what comes after is counted from here');
    const afterRefusal = sent.length;
    await page.fill('#message', 'Anyone there?');
    await page.press('#message', 'Enter');
    await page.click('#new-session');
    await elapse(300, 'a request the page wrongly sent with no valid key would have gone by now');
    expect(sent.length).toBe(afterRefusal);
    expect(await page.locator('#messages > *').count()).toBe(0);

    // The right key again brings the last session back.
    await useKey(page, ADMIN_KEY);
    await prompt.waitFor({ state: 'hidden' });
    await models(page).first().waitFor();
    expect(await page.inputValue('#session-id')).toBe(sessionId);
    expect(await page.locator('#error').isHidden()).toBe(true);
  });

  it("works with a user's own key, and shows another user's data as not found", async () => {
    const user = freshUser('keyholder');
    expect((await asAdmin('POST', '/users', { user_id: user }))[0]).toBe(201);
    const [status, issued] = await asAdmin('POST', `/users/${encodeURIComponent(user)}/api-keys`);
    expect(status).toBe(201);
    expect(issued.key).toMatch(/^gca_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);

    const { page, sent } = await openPage();
    await page.fill('#user-id', user);
    await page.press('#user-id', 'Tab');
    await useKey(page, issued.key);
    await page.locator('#key-prompt').waitFor({ state: 'hidden' });
    await waitForListStatus(page, 'No sessions yet.');

    await send(page, 'Hello from my own key');
    const sessionId = await page.inputValue('#session-id');
    expect(await models(page).first().locator('.reply-text').textContent()).toContain('Hello from my own key');
    const [, session] = await asAdmin('GET', `/sessions/${sessionId}`);
    expect(session.user_id).toBe(user);
    expect(await history(sessionId)).toHaveLength(2);
    expect(sent.slice(1).filter((request) => request.authorization !== `Bearer ${issued.key}`)).toEqual([]);
    await page.waitForFunction((id) => document.querySelector(`#session-list .session-item[data-session-id="${id}"]`) !== null, sessionId);

    // Someone else's session: the server answers 404, shown as an ordinary error; the key stays.
    const other = freshUser('stranger');
    expect((await asAdmin('POST', '/users', { user_id: other }))[0]).toBe(201);
    const [, stranger] = await asAdmin('POST', '/sessions', { user_id: other });
    await page.fill('#session-id', stranger.session_id);
    await page.click('#open-session');
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/^SESSION_NOT_FOUND: /);
    expect(await page.locator('#key-prompt').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('gemini-chat.api-key'))).toBe(issued.key);
    // The open session is still its own.
    expect(await page.inputValue('#session-id')).toBe(stranger.session_id);
    expect(await page.locator('.session-item.current').getAttribute('data-session-id')).toBe(sessionId);
  });

  it('fills the user from GET /me: a user key shows its user and lists its sessions; the admin key leaves the field to the person', async () => {
    const user = freshUser('me');
    expect((await asAdmin('POST', '/users', { user_id: user }))[0]).toBe(201);
    const [, issued] = await asAdmin('POST', `/users/${encodeURIComponent(user)}/api-keys`);
    const [, session] = await asAdmin('POST', '/sessions', { user_id: user });

    const { page, sent } = await openPage();
    expect(await page.inputValue('#user-id')).toBe('web-user');
    await useKey(page, issued.key);
    await page.waitForFunction(
      (id) => document.querySelector(`#session-list .session-item[data-session-id="${id}"]`) !== null,
      session.session_id,
    );
    expect(await page.inputValue('#user-id')).toBe(user);
    expect(await page.locator('#user-id').evaluate((el) => (el as HTMLInputElement).readOnly)).toBe(true);
    expect(await page.textContent('#session-list-user')).toBe(`of ${user}`);
    const me = sent.findIndex((request) => request.path === '/me');
    expect(me).toBeGreaterThan(0);
    expect(sent[me].authorization).toBe(`Bearer ${issued.key}`);
    // The list was asked for the key's user, after /me said who that is.
    expect(sent.slice(me).some((request) => request.path.startsWith(`/sessions?user_id=${encodeURIComponent(user)}&`))).toBe(true);
    expect(sent.slice(0, me).some((request) => request.path.startsWith('/sessions?'))).toBe(false);

    // The admin key may act for anyone: the field is the person's again.
    await page.click('#forget-key');
    expect(await page.locator('#user-id').evaluate((el) => (el as HTMLInputElement).readOnly)).toBe(false);
    await useKey(page, ADMIN_KEY);
    await page.waitForFunction(
      () => !document.querySelector('#session-list[aria-busy]') && document.querySelector('#session-list-status') !== null,
    );
    await waitFor(
      'the page to ask /me with the admin key',
      () => sent.filter((r) => r.path === '/me' && r.authorization === `Bearer ${ADMIN_KEY}`).length,
    );
    expect(await page.locator('#user-id').evaluate((el) => (el as HTMLInputElement).readOnly)).toBe(false);
    await useUser(page, freshUser('chosen-by-admin'));
  });
});

describe('files with a key', () => {
  it("uploads files and reads them back (thumbnails) with the tab's key, never by a bare URL", async () => {
    const { page, sent } = await openPage();
    await useKey(page, ADMIN_KEY);
    await page.locator('#key-prompt').waitFor({ state: 'hidden' });
    await useUser(page, freshUser('files-key'));
    await page.setInputFiles('#attach-input', [{ name: 'dot.png', mimeType: 'image/png', buffer: png(3) }]);
    await page.locator('#attachments .attachment[data-status="ready"]').waitFor();
    await page.click('#send');
    await models(page).first().waitFor();
    await page.waitForFunction(
      () => (document.querySelector('#messages .message-attachments img') as HTMLImageElement)?.naturalWidth === 1,
    );

    const fileId = (await page.getAttribute('#messages .message-attachments li', 'data-file-id'))!;
    const files = sent.filter((request) => request.path.startsWith('/files'));
    expect(apiPaths(files)).toEqual([expect.stringMatching(/^POST \/files\?user_id=/), `GET /files/${fileId}/content`]);
    expect(files.filter((request) => request.authorization !== `Bearer ${ADMIN_KEY}`)).toEqual([]);
    expect(await page.getAttribute('#messages .message-attachments img', 'src')).toMatch(/^blob:/);
  });
});

describe('retrying a send', () => {
  it('re-sends with the same Idempotency-Key after a broken stream: the finished turn is replayed, not run twice', async () => {
    const { page, sent } = await openPage();
    await useKey(page, ADMIN_KEY);
    await useUser(page, freshUser('retrier'));
    await page.click('#new-session');
    await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
    const sessionId = await page.inputValue('#session-id');

    const text = 'Tell me something worth paying for once';
    const full = 'Here is a reply that the server finishes and stores, although the page sees only its start.';
    t.emulator.enqueue({ text: full, chunkDelayMs: 20 });
    const upstreamBefore = t.emulator.generateRequests().length;
    // The first send reaches the server, which streams the whole turn and stores it; the page
    // gets only the first event, then the stream ends without `done`.
    let cut = false;
    await page.route('**/sessions/*/messages', async (route) => {
      if (cut) return route.continue();
      cut = true;
      const response = await route.fetch();
      const body = await response.text();
      expect(body).toContain('event: done');
      await route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: body.slice(0, body.indexOf('\n\n') + 2) });
    });

    await page.fill('#message', text);
    await page.press('#message', 'Enter');
    const error = page.locator('#send-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/^STREAM_INTERRUPTED: /);
    const retry = page.locator('#retry-send');
    await retry.waitFor({ state: 'visible' });
    await page.screenshot({ path: '/tmp/page-retry.png' });
    expect(await page.inputValue('#message')).toBe(text);
    expect(await page.locator('#messages > *').count()).toBe(0);
    // The server did finish it.
    expect(await history(sessionId)).toEqual([
      ['user', text],
      ['model', full],
    ]);
    expect(t.emulator.generateRequests().length).toBe(upstreamBefore + 1);

    await retry.click();
    const reply = models(page).first();
    await reply.waitFor();
    expect(await reply.locator('.reply-text').textContent()).toBe(full);
    expect(await reply.locator('.reply-meta').textContent()).toMatch(/tokens .* · \$0\.\d+$/);
    expect(await page.locator('#messages [data-role="user"]').allTextContents()).toEqual([text]);
    expect(await error.isHidden()).toBe(true);
    expect(await retry.isHidden()).toBe(true);
    expect(await page.inputValue('#message')).toBe('');
    expect(await page.textContent('#notice')).toContain('not asked for or paid for again');

    // One turn stored and one upstream call, however many attempts.
    expect(await history(sessionId)).toEqual([
      ['user', text],
      ['model', full],
    ]);
    expect(t.emulator.generateRequests().length).toBe(upstreamBefore + 1);
    const [, session] = await asAdmin('GET', `/sessions/${sessionId}`);
    expect(dollarsOf((await page.textContent('#session-total'))!)).toBeCloseTo(session.total_cost_usd, 12);

    // Both attempts carried the same key; the next message gets a new one.
    await send(page, 'A new question');
    const keys = sent.filter((request) => request.method === 'POST' && request.path.endsWith('/messages')).map((r) => r.idempotencyKey);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(UUID);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).toMatch(UUID);
    expect(keys[2]).not.toBe(keys[0]);
    expect(await history(sessionId)).toHaveLength(4);
  });

  it('after a lost connection, waits while the first attempt is still running (409) and then shows its reply', async () => {
    const { page } = await openPage();
    await useKey(page, ADMIN_KEY);
    await useUser(page, freshUser('patient'));
    await page.click('#new-session');
    await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
    const sessionId = await page.inputValue('#session-id');

    t.emulator.enqueue({ delayMs: 1500 });
    const upstreamBefore = t.emulator.generateRequests().length;
    // The first send reaches the server (which starts a slow turn), but the page's connection drops.
    // Set by the route handler below; typed here so the awaiting code does not read it as null.
    let forwarded = null as Promise<unknown> | null;
    await page.route('**/sessions/*/messages', async (route) => {
      if (forwarded) return route.continue();
      forwarded = route.fetch().then(
        (response) => response.text(),
        () => null,
      );
      await route.abort('connectionreset');
    });
    const statuses: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/messages')) statuses.push(response.status());
    });

    const text = 'Are you still working on it?';
    await page.fill('#message', text);
    await page.press('#message', 'Enter');
    await page.locator('#send-error').waitFor({ state: 'visible' });
    expect(await page.textContent('#send-error')).toMatch(/^NETWORK_ERROR: /);
    await page.locator('#retry-send').waitFor({ state: 'visible' });
    // The server has the first attempt in hand: Gemini is answering it.
    await waitFor('the first attempt to reach Gemini', () => t.emulator.generateRequests().length !== upstreamBefore);
    expect(t.emulator.generateRequests().length).toBe(upstreamBefore + 1);

    await page.click('#retry-send');
    await page.waitForFunction(() => /still running/.test(document.querySelector('#thinking')?.textContent ?? ''));
    const reply = models(page).first();
    await reply.waitFor();
    expect(await reply.locator('.reply-text').textContent()).toContain(text);
    expect(statuses[0]).toBe(409);
    expect(statuses.at(-1)).toBe(201);
    expect(await page.locator('#send-error').isHidden()).toBe(true);
    expect(await page.locator('#retry-send').isHidden()).toBe(true);
    expect(await page.textContent('#thinking')).toBe('Gemini is thinking…');

    await forwarded;
    expect(await history(sessionId)).toEqual([
      ['user', text],
      ['model', expect.stringContaining(text)],
    ]);
    expect(t.emulator.generateRequests().length).toBe(upstreamBefore + 1);
  });

  it('gives an edited message a new key', async () => {
    const { page, sent } = await openPage();
    await useKey(page, ADMIN_KEY);
    await useUser(page, freshUser('editor'));
    await page.click('#new-session');
    await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
    const sessionId = await page.inputValue('#session-id');

    t.emulator.enqueue({ status: 500 });
    await page.fill('#message', 'First wording');
    await page.press('#message', 'Enter');
    await page.locator('#retry-send').waitFor({ state: 'visible' });
    expect(await page.textContent('#send-error')).toMatch(/^UPSTREAM_ERROR: /);

    await page.fill('#message', 'Second wording');
    expect(await page.locator('#retry-send').isHidden()).toBe(true);
    await page.press('#message', 'Enter');
    await models(page).first().waitFor();

    const keys = sent.filter((request) => request.method === 'POST' && request.path.endsWith('/messages')).map((r) => r.idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(keys[1]).not.toBe(keys[0]);
    expect(await history(sessionId)).toEqual([
      ['user', 'Second wording'],
      ['model', expect.stringContaining('Second wording')],
    ]);
  });
});

/** "$0.0003568" → 0.0003568 */
function dollarsOf(text: string): number {
  const match = /\$(\d+\.\d+)/.exec(text);
  if (!match) throw new Error(`no dollar amount in "${text}"`);
  return Number(match[1]);
}
