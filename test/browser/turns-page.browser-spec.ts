import { jest } from '@jest/globals';
import type { Page } from 'playwright-core';
import { models, send, usePageHarness } from '../support/browser.js';
import { waitFor } from '../support/wait.js';

/**
 * The page and a turn's stream (docs/api.md, Streaming): Stop cancels the running turn, a reload
 * during a turn follows it to its end, a dropped stream is taken up again with Last-Event-ID, a
 * send's error shows beside the box, and a reply's table lines up as it streams and once done.
 * Needs Chromium: scripts/ensure-chromium.mjs.
 */

jest.setTimeout(30_000);

const harness = usePageHarness();
const t = harness.app;

/** Four chunks from the emulator (the test app gives Gemini 3 s a call): time to stop, reload or drop in between. */
const LONG_REPLY =
  'A reply that takes its time: it is written a little at a time, so that a person can stop it half way, ' +
  'reload the page while it is still being written, or lose the connection before the end of it.';

async function getJson(path: string): Promise<any> {
  const response = await fetch(`${t.baseUrl}${path}`);
  expect(response.status).toBe(200);
  return response.json();
}

/** Opens a page, makes a session and returns its id. */
async function pageWithSession(): Promise<{ page: Page; sessionId: string }> {
  const page = await harness.openPage();
  await page.click('#new-session');
  await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
  return { page, sessionId: await page.inputValue('#session-id') };
}

/** Waits until the reply being streamed shows some text. */
async function firstDelta(page: Page): Promise<void> {
  await page.waitForFunction(
    () => (document.querySelector('#messages [data-role="model"][data-streaming="true"] .reply-text')?.textContent ?? '') !== '',
  );
}

describe('a running turn on the page', () => {
  it('stops a streaming reply: the turn is cancelled, and the partial reply shows as stored, marked stopped, with its cost', async () => {
    const { page, sessionId } = await pageWithSession();
    const calls = t.emulator.generateRequests().length;
    t.emulator.enqueue({ text: LONG_REPLY, chunkDelayMs: 800 });
    await page.fill('#message', 'Take your time');
    await page.press('#message', 'Enter');
    await firstDelta(page);
    const stop = page.locator('#stop');
    await stop.waitFor({ state: 'visible' });
    await stop.click();

    const reply = models(page).first();
    await reply.waitFor();
    await waitFor('the emulator to see the client go', () => t.emulator.generateRequests()[calls]?.clientGone, { timeoutMs: 10_000 });
    const history = await getJson(`/sessions/${sessionId}/history`);
    const stored = history.messages[1];
    expect(stored.finish_reason).toBe('CANCELLED');
    expect(stored.content.length).toBeGreaterThan(0);
    expect(stored.content.length).toBeLessThan(LONG_REPLY.length);
    expect(await reply.locator('.reply-text').textContent()).toBe(stored.content);
    expect(await reply.getAttribute('data-stopped')).toBe('true');
    const meta = (await reply.locator('.reply-meta').textContent())!;
    expect(meta).toMatch(/· \$0\.\d+( \(estimated\))? · Stopped$/);
    expect(await stop.isHidden()).toBe(true);
    expect(await page.isEnabled('#send')).toBe(true);
    expect(await page.locator('#send-error').isHidden()).toBe(true);
    expect(t.emulator.generateRequests().length).toBe(calls + 1);

    // Read again from the history, it is still marked stopped.
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await models(page).first().waitFor();
    expect(await models(page).first().getAttribute('data-stopped')).toBe('true');
  });

  it('follows a turn still running after a reload to its end, with no second call to the model', async () => {
    const { page, sessionId } = await pageWithSession();
    const calls = t.emulator.generateRequests().length;
    t.emulator.enqueue({ text: LONG_REPLY, chunkDelayMs: 800 });
    await page.fill('#message', 'Keep going while I reload');
    await page.press('#message', 'Enter');
    await firstDelta(page);
    const followed: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/turns/')) followed.push(`${request.method()} ${new URL(request.url()).pathname}`);
    });

    await page.reload();
    await page.waitForSelector('body[data-ready]');
    // Streaming again, from the turn's events, and then the stored messages.
    await page.locator('#messages [data-role="model"][data-streaming="true"]').waitFor();
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#messages [data-role="model"]:not([data-streaming])').length === 1 &&
        document.querySelectorAll('#messages [data-role="user"]').length === 1,
    );
    const history = await getJson(`/sessions/${sessionId}/history`);
    expect(history.messages.map((m: any) => m.role)).toEqual(['user', 'model']);
    expect(history.messages[1]).toMatchObject({ content: LONG_REPLY, finish_reason: 'STOP' });
    expect(await models(page).first().locator('.reply-text').textContent()).toBe(LONG_REPLY);
    expect(await page.locator('#messages [data-role="user"]').textContent()).toBe('Keep going while I reload');
    expect(t.emulator.generateRequests().length).toBe(calls + 1);
    const session = await getJson(`/sessions/${sessionId}`);
    expect(session.active_turn_id).toBeNull();
    expect(followed).toHaveLength(1);
    expect(followed[0]).toMatch(new RegExp(`^GET /sessions/${sessionId}/turns/[0-9a-f-]{36}/events$`));
    expect(await page.isEnabled('#send')).toBe(true);
    expect(await page.locator('#stop').isHidden()).toBe(true);
  });

  it('takes a dropped stream up again with Last-Event-ID, rather than sending the message again', async () => {
    const { page, sessionId } = await pageWithSession();
    const calls = t.emulator.generateRequests().length;
    t.emulator.enqueue({ text: LONG_REPLY, chunkDelayMs: 300 });
    const resumed: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/events')) resumed.push(request.headers()['last-event-id']);
    });
    // The turn's stream as the server sent it, cut after its first delta (the connection dropped).
    await page.route('**/messages', async (route) => {
      const response = await route.fetch();
      const body = await response.text();
      const events = body.split('\n\n');
      const cut = events.findIndex((event) => event.includes('event: delta'));
      await route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: events.slice(0, cut + 1).join('\n\n') + '\n\n',
      });
    });

    await send(page, 'Do not drop me');
    const history = await getJson(`/sessions/${sessionId}/history`);
    expect(await models(page).first().locator('.reply-text').textContent()).toBe(LONG_REPLY);
    expect(history.messages[1].content).toBe(LONG_REPLY);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatch(/^[0-9a-f-]{36}:2$/);
    expect(t.emulator.generateRequests().length).toBe(calls + 1);
    expect(await page.locator('#send-error').isHidden()).toBe(true);
  });

  it('shows the error of a send beside the box, in view at the bottom of a long conversation', async () => {
    const { page } = await pageWithSession();
    t.emulator.enqueue({ text: Array.from({ length: 60 }, (_, i) => `Line ${i + 1} of a long answer.`).join('\n\n') });
    await send(page, 'Write a lot');
    t.emulator.enqueue({ status: 500 });
    await page.fill('#message', 'And now fail');
    await page.press('#message', 'Enter');

    const error = page.locator('#send-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/^UPSTREAM_ERROR: \S.+/);
    expect(await page.locator('#error').isHidden()).toBe(true);
    const inView = await error.evaluate((el) => {
      const box = el.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
    });
    expect(inView).toBe(true);
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    // The next send clears it.
    await send(page, 'Try once more');
    expect(await error.isHidden()).toBe(true);
  });

  it('lines a table up as the reply streams and as soon as it is done', async () => {
    const { page } = await pageWithSession();
    const table = [
      'Prices:',
      '',
      '| Model | Input per million | Output |',
      '| --- | ---: | --- |',
      '| flash | $0.30 | $2.50 |',
      '| a-model-with-a-much-longer-name | $1.25 | $10.00 |',
      '| x | $0.075 | $0.30 |',
      '',
      'That is all.',
    ].join('\n');
    t.emulator.enqueue({ text: table, chunkDelayMs: 400 });
    await page.fill('#message', 'A table please');
    await page.press('#message', 'Enter');

    /** The left edge of each cell, row by row, of the reply's table (null before it has one). */
    const columns = (selector: string) =>
      page.evaluate((sel) => {
        const rows = [...document.querySelectorAll(`${sel} .reply-text table tr`)];
        return rows.length ? rows.map((row) => [...row.children].map((cell) => Math.round(cell.getBoundingClientRect().left))) : null;
      }, selector);
    const aligned = (rows: number[][]) => rows.every((row) => JSON.stringify(row) === JSON.stringify(rows[0]));

    const streaming = await waitFor('a table while the reply streams', () => columns('#messages [data-streaming="true"]'), {
      until: (rows) => rows !== null && rows.length >= 2,
      everyMs: 50,
      timeoutMs: 10_000,
    });
    expect(aligned(streaming!)).toBe(true);

    const reply = models(page).first();
    await reply.waitFor();
    const done = (await columns('#messages [data-role="model"]:not([data-streaming])'))!;
    expect(done).toHaveLength(4);
    expect(done[0]).toHaveLength(3);
    expect(aligned(done)).toBe(true);
    expect(await reply.locator('td').nth(3).textContent()).toBe('a-model-with-a-much-longer-name');
  });
});
