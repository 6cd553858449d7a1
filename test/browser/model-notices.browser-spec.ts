import { jest } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshUser, send, useUser, usePageHarness } from '../support/browser.js';

/**
 * Models going away, on the page: the notices of GET /health in the banners, and a warning on a
 * session whose model_notice says its model is deprecated or retired. The app runs on a model table
 * of its own (PRICING_FILE) whose default model shuts down soon. Needs Chromium:
 * scripts/ensure-chromium.mjs.
 */

jest.setTimeout(20_000);

const DAY_MS = 24 * 60 * 60 * 1000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Within the 30 days before a shutdown that /health announces it. */
const SHUTDOWN = isoDay(Date.now() + 10 * DAY_MS);
const RETIRED_ON = isoDay(Date.now() - 40 * DAY_MS);

const rates = {
  input_per_million_usd: 0.3,
  input_audio_per_million_usd: 1,
  output_per_million_usd: 2.5,
  cached_input_per_million_usd: 0.03,
  cached_input_audio_per_million_usd: 0.1,
  long_context: null,
  input_token_limit: 1048576,
  output_token_limit: 65536,
};
const table = {
  read: isoDay(Date.now()),
  sources: ['https://ai.google.dev/gemini-api/docs/models'],
  models: [
    { model: 'gemini-page-old', ...rates, status: 'deprecated', shutdown_date: SHUTDOWN, replacement: 'gemini-page-new' },
    { model: 'gemini-page-new', ...rates, status: 'stable', shutdown_date: null, replacement: null },
    { model: 'gemini-page-gone', ...rates, status: 'retired', shutdown_date: RETIRED_ON, replacement: 'gemini-page-new' },
  ],
};
// Written before the app starts (in the harness's beforeAll), removed after the file's tests.
const folder = mkdtempSync(join(tmpdir(), 'model-notices-'));
const modelFile = join(folder, 'models.json');
writeFileSync(modelFile, JSON.stringify(table));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const harness = usePageHarness({ env: { PRICING_FILE: modelFile, GEMINI_MODEL: 'gemini-page-old' } });
const t = harness.app;

async function createSession(body: Record<string, unknown>): Promise<any> {
  const response = await fetch(`${t.baseUrl}/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return response.json();
}

describe('models going away', () => {
  // First in this file: /health reads the models of stored sessions once a minute, so the
  // session on a retired model is made before anything asks.
  it('lists each model notice of /health in the banners', async () => {
    await createSession({ user_id: freshUser('retired-model'), model: 'gemini-page-gone' });
    const page = await harness.openPage();
    const notices = page.locator('#model-notices');
    await notices.waitFor({ state: 'visible' });

    const health = await (await fetch(`${t.baseUrl}/health`)).json();
    expect(health.model_notices.map((notice: any) => [notice.model, notice.status, notice.used_by])).toEqual([
      ['gemini-page-old', 'deprecated', 'GEMINI_MODEL'],
      ['gemini-page-gone', 'retired', 'sessions'],
    ]);
    expect(await notices.locator('li').allTextContents()).toEqual([
      `gemini-page-old is deprecated: shutdown ${SHUTDOWN}, use gemini-page-new (set as GEMINI_MODEL, the model of new sessions)`,
      `gemini-page-gone is retired: shut down ${RETIRED_ON}, use gemini-page-new (used by sessions)`,
    ]);
  });

  it('warns on a session whose model is deprecated or retired, and not on one whose model is not', async () => {
    const page = await harness.openPage();
    const user = freshUser('model-warning');
    await useUser(page, user);
    const warning = page.locator('#model-warning');

    // A new session gets GEMINI_MODEL, deprecated here.
    await send(page, 'Which model answers?');
    expect(await page.textContent('#session-model')).toBe('gemini-page-old');
    await warning.waitFor({ state: 'visible' });
    expect(await warning.textContent()).toBe(
      `This session's model gemini-page-old is deprecated: shutdown ${SHUTDOWN}, use gemini-page-new.`,
    );

    const current = await createSession({ user_id: user, model: 'gemini-page-new' });
    const gone = await createSession({ user_id: user, model: 'gemini-page-gone' });
    await page.fill('#session-id', current.session_id);
    await page.click('#open-session');
    await page.waitForFunction(() => document.querySelector('#session-model')?.textContent === 'gemini-page-new');
    expect(await warning.isHidden()).toBe(true);

    await page.fill('#session-id', gone.session_id);
    await page.click('#open-session');
    await warning.waitFor({ state: 'visible' });
    expect(await warning.textContent()).toBe(
      `This session's model gemini-page-gone is retired: shut down ${RETIRED_ON}, use gemini-page-new. Google no longer serves it under this name: its turns may fail, or be answered (and billed) by its replacement.`,
    );
  });
});
