import { jest } from '@jest/globals';
import type { Page } from 'playwright-core';
import { freshUser, send, useUser, usePageHarness } from '../support/browser.js';
import { elapse } from '../support/wait.js';

/**
 * The open session's context window on the page: the gauge (tokens used of the limit, older
 * messages left out) and the estimate of the message being typed, against the real app and the
 * Gemini emulator. Needs Chromium: scripts/ensure-chromium.mjs.
 */

jest.setTimeout(20_000);

const harness = usePageHarness();
const t = harness.app;
const openPage = harness.openPage.bind(harness);

/** The API as another client: [status, JSON body]. */
async function api(method: string, path: string, body?: unknown): Promise<[number, any]> {
  const response = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return [response.status, text ? JSON.parse(text) : null];
}

async function getJson(path: string): Promise<any> {
  const [status, body] = await api('GET', path);
  expect(status).toBe(200);
  return body;
}

const counted = (n: number) => n.toLocaleString('en-US');

/** "≈ 1,234 prompt tokens · ≤ $0.0031" → [1234, 0.0031] */
function estimateFigures(text: string): [number, number] {
  const match = /^≈ ([\d,]+) prompt tokens? · ≤ \$(\d+\.\d+)/.exec(text);
  if (!match) throw new Error(`not an estimate: "${text}"`);
  return [Number(match[1].replace(/,/g, '')), Number(match[2])];
}

/** Opens a session by id, as a person pasting it does, and waits for its history. */
async function openById(page: Page, sessionId: string): Promise<void> {
  await page.fill('#session-id', sessionId);
  await page.click('#open-session');
  await page.waitForFunction(
    (id) =>
      (document.querySelector('#session-id') as HTMLInputElement).value === id &&
      !document.querySelector('#session-tools')!.hasAttribute('hidden'),
    sessionId,
  );
}

/** Waits for the gauge to state what GET /sessions/:id states. */
async function expectGaugeOf(page: Page, sessionId: string): Promise<any> {
  const session = await getJson(`/sessions/${sessionId}`);
  expect(typeof session.context_tokens).toBe('number');
  expect(typeof session.context_limit).toBe('number');
  const want = `Context: ${counted(session.context_tokens)} of ${counted(session.context_limit)} tokens`;
  await page.waitForFunction((text) => document.querySelector('#context-gauge')?.textContent === text, want);
  expect(await page.locator('#context-meter').evaluate((meter: HTMLMeterElement) => [meter.value, meter.max])).toEqual([
    Math.min(session.context_tokens, session.context_limit),
    session.context_limit,
  ]);
  return session;
}

/** The estimate line once it shows an answer for the text in the box (not dimmed as out of date). */
async function settledEstimate(page: Page): Promise<string> {
  await page.waitForFunction(() => {
    const line = document.querySelector<HTMLElement>('#estimate')!;
    return !line.hidden && line.dataset.stale === undefined;
  });
  return (await page.textContent('#estimate'))!;
}

/** The N of "N older messages left out" for the last turn of a history, as the API's messages say it. */
function leftOutIn(messages: any[]): number {
  const last = messages.map((m) => m.role).lastIndexOf('model');
  expect(last).toBeGreaterThan(0);
  expect(messages[last].context.truncated).toBe(true);
  return last - 1 - messages[last].context.messages;
}

describe('the context gauge', () => {
  it('shows the tokens the session takes of its limit, as the API states them, after every turn', async () => {
    const page = await openPage();
    await useUser(page, freshUser('gauge'));
    await page.click('#new-session');
    await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
    const sessionId = await page.inputValue('#session-id');
    const empty = await getJson(`/sessions/${sessionId}`);
    expect(empty.context_tokens).toBeNull();
    expect(await page.textContent('#context-gauge')).toBe(`Context: no turns yet · limit ${counted(empty.context_limit)} tokens`);
    expect(await page.locator('#context-meter').isHidden()).toBe(true);
    expect(await page.textContent('#session-model')).toBe(empty.model);

    await send(page, 'How much of the context does this take?');
    const first = await expectGaugeOf(page, sessionId);
    await send(page, 'And after a second question?');
    const second = await expectGaugeOf(page, sessionId);
    expect(second.context_tokens).toBeGreaterThan(first.context_tokens);
    expect(await page.locator('#context-left-out').isHidden()).toBe(true);

    // The same after a reload, from the session and its history.
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await expectGaugeOf(page, sessionId);
    expect(await page.locator('#context-left-out').isHidden()).toBe(true);
  });

  it('says how many older messages the last turn left out to fit the limit', async () => {
    const user = freshUser('truncated');
    const [created, session] = await api('POST', '/sessions', { user_id: user, max_context_tokens: 400 });
    expect(created).toBe(201);
    // Turns from another client until one has to leave older messages out.
    let messages: any[] = [];
    for (let turn = 1; turn <= 12 && !messages.at(-1)?.context?.truncated; turn++) {
      const [status] = await api('POST', `/sessions/${session.session_id}/messages`, {
        message: `Question ${turn}: ${'tell me more '.repeat(8)}`,
      });
      expect(status).toBe(201);
      messages = (await getJson(`/sessions/${session.session_id}/history`)).messages;
    }
    const leftOut = leftOutIn(messages);
    expect(leftOut).toBeGreaterThan(0);

    const page = await openPage();
    await useUser(page, user);
    await openById(page, session.session_id);
    await expectGaugeOf(page, session.session_id);
    const line = page.locator('#context-left-out');
    expect(await line.textContent()).toBe(`${leftOut} older message${leftOut === 1 ? '' : 's'} left out`);

    // A turn from the page: the count is the one of that turn.
    await send(page, 'One more from the page');
    messages = (await getJson(`/sessions/${session.session_id}/history`)).messages;
    const afterPageTurn = leftOutIn(messages);
    await page.waitForFunction(
      (text) => document.querySelector('#context-left-out')?.textContent === text,
      `${afterPageTurn} older message${afterPageTurn === 1 ? '' : 's'} left out`,
    );
    await expectGaugeOf(page, session.session_id);
    expect(await line.isVisible()).toBe(true);
  });
});

describe('the estimate of the message being typed', () => {
  it('shows the prompt tokens and the most the turn could cost once typing pauses, and sends no turn', async () => {
    const page = await openPage();
    const estimates: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/estimate')) estimates.push(request.postDataJSON().message);
    });
    await useUser(page, freshUser('estimator'));
    await send(page, 'A first question, so that there is some context');
    const sessionId = await page.inputValue('#session-id');
    const before = await getJson(`/sessions/${sessionId}/history`);
    const generated = t.emulator.generateRequests().length;
    expect(estimates).toEqual([]);

    const text = 'How many tokens will this take, and what could it cost at most?';
    await page.locator('#message').pressSequentially(text, { delay: 20 });
    const shown = await settledEstimate(page);
    // Asked for once typing paused, not at every key.
    expect(estimates.length).toBeGreaterThanOrEqual(1);
    expect(estimates.length).toBeLessThanOrEqual(2);
    expect(estimates.at(-1)).toBe(text);

    const [status, expected] = await api('POST', `/sessions/${sessionId}/estimate`, { message: text });
    expect(status).toBe(200);
    expect(expected.max_cost_usd).toBeGreaterThan(0);
    const [tokens, dollars] = estimateFigures(shown);
    expect(tokens).toBe(expected.prompt_tokens);
    expect(dollars).toBeCloseTo(expected.max_cost_usd, 12);
    expect(shown).toBe(`≈ ${counted(expected.prompt_tokens)} prompt tokens · ≤ $${dollars}`);

    // Nothing was sent as a turn, nothing stored.
    expect(t.emulator.generateRequests().length).toBe(generated);
    const after = await getJson(`/sessions/${sessionId}/history`);
    expect(after.messages).toEqual(before.messages);
    expect(after.total_cost_usd).toBe(before.total_cost_usd);
    expect(await page.locator('#messages > *').count()).toBe(2);

    // An empty box has nothing to estimate; a sent message takes its estimate along.
    await page.fill('#message', '');
    await page.locator('#estimate').waitFor({ state: 'hidden' });
    await page.fill('#message', 'Sent right away');
    await page.press('#message', 'Enter');
    await page.locator('#messages [data-role="model"]:not([data-streaming])').nth(1).waitFor();
    expect(await page.locator('#estimate').isHidden()).toBe(true);
  });

  it('drops an estimate that answers after the text changed', async () => {
    const page = await openPage();
    await useUser(page, freshUser('late-estimate'));
    await send(page, 'Some context first');
    const sessionId = await page.inputValue('#session-id');

    // The estimate of the first text is slow: it answers only after the one of the second.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    await page.route('**/estimate', async (route) => {
      if (holding) {
        holding = false;
        await held;
      }
      await route.continue();
    });
    const short = 'Short?';
    const long = `${short} ${'And a much longer follow-up that weighs many more tokens than the first. '.repeat(6)}`;
    const estimateOf = (text: string) => (response: { url(): string; request(): { postDataJSON(): any } }) =>
      response.url().endsWith('/estimate') && response.request().postDataJSON()?.message === text;

    const askedShort = page.waitForRequest((request) => request.url().endsWith('/estimate'));
    await page.fill('#message', short);
    await askedShort;
    const answeredLong = page.waitForResponse(estimateOf(long));
    await page.fill('#message', long);
    await answeredLong;
    const shown = await settledEstimate(page);
    const answeredShort = page.waitForResponse(estimateOf(short));
    release();
    await answeredShort;
    await elapse(200, 'a late answer would (wrongly) be shown by now');

    expect(await page.textContent('#estimate')).toBe(shown);
    const [, ofLong] = await api('POST', `/sessions/${sessionId}/estimate`, { message: long });
    const [, ofShort] = await api('POST', `/sessions/${sessionId}/estimate`, { message: short });
    expect(ofShort.prompt_tokens).toBeLessThan(ofLong.prompt_tokens); // the two answers tell apart
    expect(estimateFigures(shown)[0]).toBe(ofLong.prompt_tokens);
  });

  it('says why the message would be refused when it cannot fit the context (422 CONTEXT_TOO_LONG)', async () => {
    const user = freshUser('too-long');
    const [created, session] = await api('POST', '/sessions', { user_id: user, max_context_tokens: 50, truncation: 'disabled' });
    expect(created).toBe(201);
    const page = await openPage();
    await useUser(page, user);
    await openById(page, session.session_id);
    const generated = t.emulator.generateRequests().length;

    const text = 'This message is far longer than the fifty tokens this session allows. '.repeat(6);
    await page.fill('#message', text);
    await page.waitForSelector('#estimate.is-error');
    const [status, refusal] = await api('POST', `/sessions/${session.session_id}/estimate`, { message: text });
    expect(status).toBe(422);
    expect(refusal.code).toBe('CONTEXT_TOO_LONG');
    expect(await page.textContent('#estimate')).toBe(refusal.message);
    expect(t.emulator.generateRequests().length).toBe(generated);
    expect((await getJson(`/sessions/${session.session_id}`)).message_count).toBe(0);
  });
});
