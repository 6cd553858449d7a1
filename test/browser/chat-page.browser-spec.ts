import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { freshUser, models, NAMED_HOST, send, useUser, usePageHarness } from '../support/browser.js';
import { startTestApp } from '../support/test-app.js';
import { elapse, waitFor } from '../support/wait.js';

/**
 * The built-in page (src/web/public) in a real headless Chromium against the real app, which talks
 * to the Gemini emulator through the real SDK. Needs Chromium: scripts/ensure-chromium.mjs.
 */

jest.setTimeout(15_000);

// The named host is served because it is listed: open mode answers only loopback Hosts otherwise.
const harness = usePageHarness({ env: { ALLOWED_HOSTS: NAMED_HOST } });
const t = harness.app;
const openPage = harness.openPage.bind(harness);

async function getJson(path: string): Promise<any> {
  const response = await fetch(`${t.baseUrl}${path}`);
  expect(response.status).toBe(200);
  return response.json();
}

/** The session list as the page shows it: [session id, title] newest first. */
async function listed(page: Page): Promise<[string, string][]> {
  return page
    .locator('#session-list .session-item')
    .evaluateAll((items) =>
      items.map((item) => [(item as HTMLElement).dataset.sessionId!, item.querySelector('.session-name')!.textContent] as [string, string]),
    );
}

/** Waits until the open session's title bar shows this title. */
async function waitForHeading(page: Page, title: string): Promise<void> {
  await page.waitForFunction((want) => document.querySelector('#session-title')?.textContent === want, title);
}

/** Waits until the list shows exactly these titles, in this order. */
async function waitForTitles(page: Page, titles: string[]): Promise<void> {
  await page.waitForFunction(
    (want) =>
      JSON.stringify([...document.querySelectorAll('#session-list .session-item .session-name')].map((el) => el.textContent)) ===
      JSON.stringify(want),
    titles,
  );
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

  it('works over plain HTTP under a host name other than localhost (no upgrade to https)', async () => {
    const url = new URL(harness.app.baseUrl);
    url.hostname = NAMED_HOST;
    const page = await harness.openPage(url.origin);
    await useUser(page, freshUser('named-host'));
    await send(page, 'hello from a named host');
    expect(await models(page).last().textContent()).toContain('hello from a named host');
  });

  it("shows the model's raw HTML as text, never as markup", async () => {
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
    await elapse(200, 'an injected <img> would have failed to load and run onerror by now');
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    expect(await page.locator('#messages img, #messages script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('shows an upstream error, keeps the typed message, and lets the person retry', async () => {
    const page = await openPage();
    t.emulator.enqueue({ status: 500 });
    await page.fill('#message', 'Will this fail?');
    await page.click('#send');

    const error = page.locator('#send-error');
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
    let page: Page | undefined;
    try {
      page = await openPage(offline.baseUrl);
      const banner = page.locator('#offline-banner');
      await banner.waitFor({ state: 'visible' });
      expect(await banner.textContent()).toContain('Offline mode: replies come from the bundled Gemini emulator, not from Google.');
    } finally {
      // Closed before the app, which would otherwise wait for the page's open connections.
      await page?.context().close();
      await offline.close();
    }
  });

  it('asks for no API key in open mode: the key area stays hidden and no key is sent', async () => {
    const page = await openPage();
    const sent: { url: string; authorization?: string }[] = [];
    page.on('request', (request) => {
      if (['fetch', 'xhr'].includes(request.resourceType()))
        sent.push({ url: request.url(), authorization: request.headers()['authorization'] });
    });
    expect(await page.getAttribute('body', 'data-auth')).toBe('off');
    expect(await page.locator('#key-area').isHidden()).toBe(true);
    expect(await page.locator('#key-prompt').isHidden()).toBe(true);
    expect(await page.locator('#api-key').isVisible()).toBe(false);

    await send(page, 'No key needed here');
    expect(await page.locator('#key-area').isHidden()).toBe(true);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((request) => request.authorization !== undefined)).toEqual([]);
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
    expect(await items.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.role))).toEqual(['user', 'model', 'user', 'model']);
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

describe('replies as Markdown', () => {
  /** Elements and attributes no reply may bring onto the page, in the messages or anywhere else. */
  async function foreignMarkup(page: Page): Promise<string[]> {
    return page.evaluate(() => {
      const found: string[] = [];
      for (const element of document.querySelectorAll(
        '#messages script, #messages img, #messages iframe, #messages svg, ' +
          '#messages object, #messages embed, #messages form, #messages input, #messages style, #messages link, #messages meta',
      )) {
        found.push(element.outerHTML);
      }
      for (const element of document.querySelectorAll('#messages *')) {
        for (const { name } of element.attributes) {
          if (/^on/i.test(name) || name === 'style' || name === 'srcdoc') found.push(`${element.tagName} ${name}`);
        }
      }
      return found;
    });
  }

  it('loads marked and DOMPurify from the app itself, as installed in node_modules, and nothing else under /vendor', async () => {
    const require = createRequire(import.meta.url);
    const installed = {
      '/vendor/marked.esm.js': join(dirname(require.resolve('marked')), 'marked.esm.js'),
      '/vendor/purify.es.mjs': join(dirname(require.resolve('dompurify')), 'purify.es.mjs'),
    };
    for (const [path, file] of Object.entries(installed)) {
      const response = await fetch(`${t.baseUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await response.text()).toBe(readFileSync(file, 'utf8'));
    }
    for (const path of ['/vendor/', '/vendor/marked.umd.js', '/vendor/../package.json', '/vendor/purify.cjs.js']) {
      expect((await fetch(`${t.baseUrl}${path}`)).status).toBe(404);
    }
    expect((await fetch(`${t.baseUrl}/vendor/marked.esm.js`, { method: 'DELETE' })).status).toBe(404);
  });

  it("renders headings, lists, tables, code blocks, emphasis and links, and leaves the person's own text as typed", async () => {
    const page = await openPage();
    const markdown = [
      '## Packing list',
      '',
      'Bring *light* layers and **good** boots; see [the forecast](https://weather.example/alps "Forecast").',
      '',
      '- socks',
      '- a hat',
      '',
      '1. pack',
      '2. go',
      '',
      '| Item | Grams |',
      '|:-----|------:|',
      '| tent | 1200 |',
      '| stove | 300 |',
      '',
      '```js',
      'const total = 1200 + 300; // <b>not bold</b>',
      '```',
    ].join('\n');
    const question = 'What should I pack? **Just** a list, <i>please</i>.';
    t.emulator.enqueue({ text: markdown });
    await send(page, question);

    const expectRendered = async () => {
      const reply = models(page).first().locator('.reply-text');
      expect(await reply.locator('h2').textContent()).toBe('Packing list');
      expect(await reply.locator('em').allTextContents()).toEqual(['light']);
      expect(await reply.locator('strong').allTextContents()).toEqual(['good']);
      expect(await reply.locator('ul > li').allTextContents()).toEqual(['socks', 'a hat']);
      expect(await reply.locator('ol > li').allTextContents()).toEqual(['pack', 'go']);
      expect(
        await reply
          .locator('table tr')
          .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => `${cell.tagName} ${cell.textContent}`))),
      ).toEqual([
        ['TH Item', 'TH Grams'],
        ['TD tent', 'TD 1200'],
        ['TD stove', 'TD 300'],
      ]);
      expect(await reply.locator('th').nth(1).getAttribute('align')).toBe('right');
      expect(await reply.locator('pre > code').textContent()).toBe('const total = 1200 + 300; // <b>not bold</b>\n');
      expect(await reply.locator('b').count()).toBe(0);
      expect(
        await reply.locator('a').evaluateAll((links) =>
          links.map((a) => ({
            href: a.getAttribute('href'),
            target: a.getAttribute('target'),
            rel: a.getAttribute('rel'),
            title: a.getAttribute('title'),
            text: a.textContent,
          })),
        ),
      ).toEqual([
        { href: 'https://weather.example/alps', target: '_blank', rel: 'noopener noreferrer', title: 'Forecast', text: 'the forecast' },
      ]);
      // The person's message is text, Markdown and HTML alike.
      const own = page.locator('#messages [data-role="user"]').first();
      expect(await own.textContent()).toBe(question);
      expect(await own.locator('strong, i').count()).toBe(0);
    };
    await expectRendered();
    expect(await foreignMarkup(page)).toEqual([]);

    // The same from the stored history.
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await models(page).first().waitFor();
    await expectRendered();
  });

  it('keeps Markdown payloads inert: script and data links, raw HTML, images and their handlers', async () => {
    const page = await openPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const hostile = [
      '[a javascript link](javascript:window.__xss=1)',
      '[a mixed-case one](JaVaScRiPt:window.__xss=2)',
      '[an encoded one](jav&#x09;ascript:window.__xss=3)',
      '[a data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '[a reference link][evil]',
      '<javascript:window.__xss=4>',
      '<script>window.__xss=5</script>',
      '<img src=x onerror="window.__xss=6">',
      '<iframe src="javascript:window.__xss=7"></iframe>',
      '<svg onload="window.__xss=8"><circle r="1"/></svg>',
      '<a href="javascript:window.__xss=9">a raw link</a>',
      '![an image with a handler](https://images.example/cat.png "x\\" onerror=\\"window.__xss=10")',
      '![a data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+)',
      '![broken](x" onerror="window.__xss=11)',
      '[evil]: javascript:window.__xss=12',
    ].join('\n\n');
    t.emulator.enqueue({ text: hostile });
    await send(page, 'Show me some tricks');

    const expectInert = async () => {
      const reply = models(page).first().locator('.reply-text');
      expect(await foreignMarkup(page)).toEqual([]);
      // The one link left goes where the image was, over https, away from the page.
      expect(
        await page
          .locator('#messages a')
          .evaluateAll((links) =>
            links.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel'), a.textContent]),
          ),
      ).toEqual([['https://images.example/cat.png', '_blank', 'noopener noreferrer', 'an image with a handler']]);
      // The rest is there as text: links without their address, the HTML as written.
      const text = await reply.innerText();
      for (const shown of [
        'a javascript link',
        'a mixed-case one',
        'a data link',
        'a reference link',
        '<script>window.__xss=5</script>',
        '<img src=x onerror="window.__xss=6">',
        '<iframe src="javascript:window.__xss=7"></iframe>',
        '<a href="javascript:window.__xss=9">a raw link</a>',
      ]) {
        expect(text).toContain(shown);
      }
      await reply.getByText('a javascript link').click();
      await reply.getByText('a reference link').click();
      await elapse(200, 'an injected handler (an image failing to load) would have run by now');
      expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
      expect(dialogs).toEqual([]);
    };
    await expectInert();

    await page.reload();
    await page.waitForSelector('body[data-ready]');
    await models(page).first().waitFor();
    await expectInert();
  });

  it('renders a reply as Markdown while it streams, and from the stored message once it is done', async () => {
    const page = await openPage();
    t.emulator.enqueue({ text: '# Weather\n\nSunny with **strong** winds in the afternoon, and calm by the evening.', chunkDelayMs: 300 });
    await page.fill('#message', 'Weather?');
    await page.press('#message', 'Enter');

    // The heading is an element before the reply is done: the text so far is drawn as Markdown.
    await page.waitForFunction(
      () => document.querySelector('#messages [data-role="model"][data-streaming="true"] .reply-text h1')?.textContent === 'Weather',
    );

    const reply = models(page).first().locator('.reply-text');
    await reply.waitFor();
    expect(await reply.locator('h1').textContent()).toBe('Weather');
    expect(await reply.locator('strong').textContent()).toBe('strong');
    expect(await reply.locator('p').textContent()).toBe('Sunny with strong winds in the afternoon, and calm by the evening.');
  });
});

describe('streamed replies', () => {
  it('works under a strict Content-Security-Policy (no inline scripts, styles or handlers)', async () => {
    const csp = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'";
    const page = await openPage(t.baseUrl, undefined, async (page) => {
      await page.addInitScript(() => {
        const seen: string[] = ((window as any).__cspViolations = []);
        document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
      });
      await page.route(`${t.baseUrl}/`, async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': csp } });
      });
    });
    await send(page, 'Hello under a CSP');
    await page.click('#usage-button');
    await page.waitForSelector('#usage-tables:not([hidden])');
    await page.click('#rename-session');
    await page.click('#rename-cancel');
    expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);

    // And the policy was really in force: an inline script is refused.
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.head.append(script);
    });
    await page.waitForFunction(() => (window as any).__cspViolations.length > 0);
    expect(await page.evaluate(() => (window as any).__inline)).toBeUndefined();
  });

  it('shows the reply growing as it streams, then its tokens and cost once it is done', async () => {
    const page = await openPage();
    const full =
      'Streaming means the words arrive a few at a time, so the person sees the answer ' +
      'taking shape instead of staring at a spinner until the very last token has been written out.';
    t.emulator.enqueue({ text: full, chunkDelayMs: 400 });
    await page.fill('#message', 'Explain streaming');
    await page.press('#message', 'Enter');

    await page.locator('#messages [data-role="model"][data-streaming="true"]').waitFor();
    expect(await page.isDisabled('#send')).toBe(true);
    // Looked at every 40 ms while it streams: the text grows, and nothing else shows yet.
    const partials = new Set<number>();
    const look = async () => {
      const seen = await page.evaluate(() => {
        const reply = document.querySelector<HTMLElement>('#messages [data-role="model"]')!;
        return {
          streaming: reply.dataset.streaming === 'true',
          length: reply.querySelector('.reply-text')!.textContent.length,
          meta: reply.querySelector('.reply-meta')!.textContent,
        };
      });
      if (seen.streaming) {
        expect(seen.meta).toBe(''); // usage and cost come with `done`
        if (seen.length > 0 && seen.length < full.length) partials.add(seen.length);
      }
      return seen;
    };
    await waitFor('the reply to finish streaming', look, { until: (seen) => !seen.streaming, everyMs: 40, timeoutMs: 12_000 });
    expect(partials.size).toBeGreaterThanOrEqual(2);

    const reply = models(page).first();
    expect(await reply.locator('.reply-text').textContent()).toBe(full);
    const meta = (await reply.locator('.reply-meta').textContent())!;
    expect(meta).toMatch(/^\d+ tokens \(\d+ in, \d+ out(, \d+ thinking)?\) · \$0\.\d+$/);
    expect(await page.inputValue('#message')).toBe('');
    expect(await page.isEnabled('#send')).toBe(true);

    const sessionId = await page.inputValue('#session-id');
    const history = await getJson(`/sessions/${sessionId}/history`);
    const stored = history.messages[1];
    expect(stored.content).toBe(full);
    expect(dollars(meta)).toBeCloseTo(stored.cost_usd, 12);
    expect(tokens(meta)).toBe(stored.usage.total_tokens);
    expect(dollars((await page.textContent('#session-total'))!)).toBeCloseTo(history.total_cost_usd, 12);
    // The emulator was asked to stream.
    expect(t.emulator.requests.at(-1)!.action).toBe('streamGenerateContent');
  });

  it('takes a reply that fails mid-stream back off the page, shows the error and keeps the text', async () => {
    const page = await openPage();
    t.emulator.enqueue({
      text: 'This reply starts well and then breaks off half way through the sentence.',
      streamErrorAfterChunks: 1,
      status: 500,
      chunkDelayMs: 300,
    });
    await page.fill('#message', 'Will the stream break?');
    await page.press('#message', 'Enter');

    await page.locator('#messages [data-role="model"][data-streaming="true"]').waitFor();
    const error = page.locator('#send-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/^UPSTREAM_ERROR: \S.+/);
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await page.inputValue('#message')).toBe('Will the stream break?');
    expect(await page.isEnabled('#send')).toBe(true);
    const sessionId = await page.inputValue('#session-id');
    expect((await getJson(`/sessions/${sessionId}/history`)).messages).toEqual([]);
  });

  it('treats a stream that ends without `done` as a failure', async () => {
    const page = await openPage();
    await page.click('#new-session');
    await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
    await page.route('**/messages', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: 'event: delta\ndata: {"text":"Half a rep"}\n\nevent: delta\ndata: {"text":"ly and th',
      }),
    );
    await page.fill('#message', 'Cut me off');
    await page.press('#message', 'Enter');
    await page.locator('#send-error').waitFor({ state: 'visible' });
    expect(await page.textContent('#send-error')).toMatch(/^STREAM_INTERRUPTED: /);
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await page.inputValue('#message')).toBe('Cut me off');
  });
});

describe('the session list, rename and delete', () => {
  it('lists the sessions newest first with titles from their first message, a page at a time', async () => {
    const page = await openPage();
    const user = freshUser('lister');
    await useUser(page, user);
    expect(await page.textContent('#session-list-status')).toBe('No sessions yet.');

    await send(page, 'Plan a weekend in the Alps');
    const first = await page.inputValue('#session-id');
    await waitForTitles(page, ['Plan a weekend in the Alps']);
    await page.click('#new-session');
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value !== id, first);
    const second = await page.inputValue('#session-id');
    await waitForTitles(page, ['Untitled', 'Plan a weekend in the Alps']);
    await send(page, 'What should I pack for the sea?');
    await waitForTitles(page, ['What should I pack for the sea?', 'Plan a weekend in the Alps']);
    await waitForHeading(page, 'What should I pack for the sea?');

    const api = await getJson(`/sessions?user_id=${encodeURIComponent(user)}`);
    expect(api.data.map((s: any) => [s.session_id, s.title])).toEqual(await listed(page));
    expect(api.data.map((s: any) => s.session_id)).toEqual([second, first]);
    const entry = page.locator(`.session-item[data-session-id="${first}"]`);
    expect(dollars((await entry.locator('.session-cost').textContent())!)).toBeCloseTo(api.data[1].total_cost_usd, 12);
    expect(await page.locator('.session-item.current').getAttribute('data-session-id')).toBe(second);

    // Clicking an entry opens it.
    await entry.click();
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value === id, first);
    await models(page).first().waitFor();
    expect(await page.locator('#messages [data-role="user"]').first().textContent()).toBe('Plan a weekend in the Alps');
    expect(await page.locator('.session-item.current').getAttribute('data-session-id')).toBe(first);

    // Twenty more: the first page is full and "More" brings the rest.
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${t.baseUrl}/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: user, title: `Bulk ${i}` }),
      });
      expect(response.status).toBe(201);
    }
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    expect(await page.locator('.session-item').count()).toBe(20);
    expect(await page.locator('.session-item .session-name').first().textContent()).toBe('Bulk 19');
    await page.click('#more-sessions');
    await page.locator('.session-item').nth(21).waitFor();
    expect((await listed(page)).slice(-2).map(([id]) => id)).toEqual([second, first]);
    expect(await page.locator('#more-sessions').isHidden()).toBe(true);
  });

  it('renames the open session inline and deletes it after an in-page confirmation', async () => {
    const page = await openPage();
    page.on('dialog', (dialog) => {
      throw new Error(`unexpected ${dialog.type()} dialog: ${dialog.message()}`);
    });
    await useUser(page, freshUser('renamer'));
    await send(page, 'Draft a packing list');
    const sessionId = await page.inputValue('#session-id');
    await waitForTitles(page, ['Draft a packing list']);
    await waitForHeading(page, 'Draft a packing list');

    await page.click('#rename-session');
    expect(await page.inputValue('#rename-input')).toBe('Draft a packing list');
    await page.fill('#rename-input', 'Trip <b>checklist</b>');
    await page.click('#rename-save');
    await waitForTitles(page, ['Trip <b>checklist</b>']);
    expect(await page.textContent('#session-title')).toBe('Trip <b>checklist</b>');
    expect(await page.locator('#session-list b').count()).toBe(0);
    expect(await page.locator('#rename-input').isHidden()).toBe(true);
    expect((await getJson(`/sessions/${sessionId}`)).title).toBe('Trip <b>checklist</b>');

    // Escape gives up a rename without saving.
    await page.click('#rename-session');
    await page.fill('#rename-input', 'Not this');
    await page.press('#rename-input', 'Escape');
    expect(await page.textContent('#session-title')).toBe('Trip <b>checklist</b>');

    // Delete asks first; Cancel keeps it.
    await page.click('#delete-session');
    await page.locator('#delete-confirm').waitFor();
    expect(await page.textContent('#delete-box')).toContain('Trip <b>checklist</b>');
    await page.click('#delete-cancel');
    expect(await page.locator('#delete-confirm').isHidden()).toBe(true);
    expect((await getJson(`/sessions/${sessionId}`)).session_id).toBe(sessionId);

    await page.click('#delete-session');
    await page.click('#delete-confirm');
    await waitForTitles(page, []);
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await page.textContent('#session-total')).toBe('No session');
    expect(await page.inputValue('#session-id')).toBe('');
    expect(await page.locator('#session-tools').isHidden()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect((await fetch(`${t.baseUrl}/sessions/${sessionId}`)).status).toBe(404);
    // And a reload does not bring it back.
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    expect(await page.locator('#messages > *').count()).toBe(0);
    expect(await page.locator('#error').isHidden()).toBe(true);
  });

  it('keeps the list in a drawer on a phone-sized screen', async () => {
    const page = await openPage(t.baseUrl, { width: 390, height: 780 });
    await useUser(page, freshUser('phone'));
    await send(page, 'Hello from a small screen');
    const sessionId = await page.inputValue('#session-id');
    await page.click('#new-session');
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value !== id, sessionId);
    expect(await page.locator('#session-list').isVisible()).toBe(false);

    await page.click('#sidebar-toggle');
    const entry = page.locator(`.session-item[data-session-id="${sessionId}"]`);
    await entry.waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#sidebar')!.getBoundingClientRect().left === 0); // slid in
    await page.screenshot({ path: '/tmp/page2-narrow.png' });
    await entry.click();
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value === id, sessionId);
    await page.locator('#session-list').waitFor({ state: 'hidden' });
    expect(await page.getAttribute('#sidebar-toggle', 'aria-expanded')).toBe('false');
  });
});

describe('the usage report', () => {
  it("shows the user's usage in total, by model and by day, equal to the API's", async () => {
    const page = await openPage();
    const user = freshUser('spender');
    await useUser(page, user);
    await page.click('#usage-button');
    const panel = page.locator('#usage-panel');
    await panel.waitFor();
    await page.waitForFunction(() => document.querySelector('#usage-status')?.textContent === 'No usage yet.');
    expect((await fetch(`${t.baseUrl}/users/${user}/usage`)).status).toBe(404);

    await send(page, 'How much does this cost?');
    const first = await page.inputValue('#session-id');
    await page.click('#new-session');
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value !== id, first);
    await send(page, 'And this one?');
    await send(page, 'And a third?');
    await page.waitForFunction(() => document.querySelector('#usage-turns')?.textContent === '3');

    const usage = await getJson(`/users/${encodeURIComponent(user)}/usage`);
    expect(usage.turns).toBe(3);
    expect(dollars((await page.textContent('#usage-total-cost'))!)).toBeCloseTo(usage.total_cost_usd, 12);
    expect(Number((await page.textContent('#usage-tokens'))!.replace(/,/g, ''))).toBe(usage.total_tokens);
    expect(await page.locator('#usage-status').isHidden()).toBe(true);
    const rows = (table: string) =>
      page.locator(`${table} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    expect(await rows('#usage-by-model')).toEqual(
      usage.by_model.map((m: any) => [m.model, String(m.turns), m.total_tokens.toLocaleString('en-US'), expect.stringMatching(/^\$/)]),
    );
    const byModelCost = await page.locator('#usage-by-model tbody td:last-child').allTextContents();
    byModelCost.forEach((text, i) => expect(dollars(text)).toBeCloseTo(usage.by_model[i].total_cost_usd, 12));
    expect((await rows('#usage-by-day')).map((row) => row[0])).toEqual(usage.by_day.map((d: any) => d.day).reverse());

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: '/tmp/page2.png' });
    await page.click('#usage-close');
    expect(await panel.isHidden()).toBe(true);
  });
});

describe('totals and late answers', () => {
  /** A turn sent by another client (not this page) to a session the page shows. */
  async function turnFromElsewhere(sessionId: string, message: string): Promise<void> {
    const response = await fetch(`${t.baseUrl}/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message }),
    });
    expect(response.status).toBe(201);
  }

  it("shows the session's totals as the API states them after a turn, not sums of its own", async () => {
    const page = await openPage();
    await useUser(page, freshUser('totals'));
    await send(page, 'First, from the page');
    const sessionId = await page.inputValue('#session-id');
    // The page never sees this turn; a page adding up its own replies would miss its tokens.
    await turnFromElsewhere(sessionId, 'Second, from another client');

    await send(page, 'Third, from the page');
    const session = await getJson(`/sessions/${sessionId}`);
    expect(session.message_count).toBe(6);
    const total = (await page.textContent('#session-total'))!;
    expect(tokens(total)).toBe(session.total_tokens);
    expect(dollars(total)).toBeCloseTo(session.total_cost_usd, 12);
    const ownTokens = await models(page).locator('.reply-meta').allTextContents();
    expect(ownTokens.map(tokens).reduce((a, b) => a + b, 0)).toBeLessThan(session.total_tokens);
    // The message count the page states is the API's too.
    await page.click('#delete-session');
    expect(await page.textContent('#delete-question')).toContain('and its 6 messages');
    await page.click('#delete-cancel');
  });

  it('shows the cost the turn answered with when the session cannot be read after it', async () => {
    const page = await openPage();
    await send(page, 'Before the outage');
    const sessionId = await page.inputValue('#session-id');
    // Every read of the session fails from now on: its own, and the list's (which carries it too).
    const down = '{"statusCode":500,"error":"Internal Server Error","code":"INTERNAL","message":"Down."}';
    await page.route(
      (url) => url.pathname === `/sessions/${sessionId}` || (url.pathname === '/sessions' && url.searchParams.has('user_id')),
      (route) =>
        route.request().method() === 'GET' ? route.fulfill({ status: 500, contentType: 'application/json', body: down }) : route.continue(),
    );

    await send(page, 'During the outage');
    const session = await getJson(`/sessions/${sessionId}`);
    const total = (await page.textContent('#session-total'))!;
    expect(total).toMatch(/^Session total: \$0\.\d+$/); // the tokens are not known, so not shown
    expect(dollars(total)).toBeCloseTo(session.total_cost_usd, 12);
    expect(await page.locator('#send-error').isHidden()).toBe(true); // the turn itself went well
    await page.waitForFunction(() =>
      /^Could not load the sessions: /.test(document.querySelector('#session-list-status')?.textContent ?? ''),
    );
    expect(await page.textContent('#session-total')).toBe(total); // and the failed list did not change it
  });

  it('drops the answer for a session the person no longer wants to see', async () => {
    const page = await openPage();
    await useUser(page, freshUser('switcher'));
    await send(page, 'A question in session A');
    const a = await page.inputValue('#session-id');
    await page.click('#new-session');
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value !== id, a);
    await send(page, 'A question in session B');
    const b = await page.inputValue('#session-id');
    await page.locator(`.session-item[data-session-id="${a}"]`).waitFor();

    // Opening A is slow: its history arrives only after B was asked for again.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/sessions/${a}/history`, async (route) => {
      await held;
      await route.continue();
    });
    const askedForA = page.waitForRequest((request) => request.url().endsWith(`/sessions/${a}/history`));
    await page.click(`.session-item[data-session-id="${a}"]`);
    await askedForA;
    const answeredB = page.waitForResponse((response) => response.url().endsWith(`/sessions/${b}/history`));
    await page.fill('#session-id', b);
    await page.click('#open-session');
    await answeredB;
    const answeredA = page.waitForResponse((response) => response.url().endsWith(`/sessions/${a}/history`));
    release();
    await answeredA;
    await elapse(200, 'a late answer would (wrongly) be shown by now');

    expect(await page.inputValue('#session-id')).toBe(b);
    expect(await page.locator('#messages [data-role="user"]').allTextContents()).toEqual(['A question in session B']);
    expect(await page.locator('.session-item.current').getAttribute('data-session-id')).toBe(b);
    expect(await page.locator('#error').isHidden()).toBe(true);
  });
});
