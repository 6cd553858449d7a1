import { jest } from '@jest/globals';
import type { Page, Request } from 'playwright-core';
import { freshUser, models, send, useUser, usePageHarness } from '../support/browser.js';
import { pdf, png, text } from '../support/file-samples.js';
import { waitFor } from '../support/wait.js';

/**
 * Files in the built-in page: attached by the button, by dropping them on the composer and by
 * pasting them, uploaded at once (POST /files) and shown as chips; sent with the message as
 * `attachments`; shown in the conversation (images inline, other files as chips that download).
 * Against the real app and the Gemini emulator. Needs Chromium: scripts/ensure-chromium.mjs.
 */

jest.setTimeout(20_000);

/** Small enough that a test can pass it with a few KiB, well above every sample. */
const FILE_MAX_BYTES = 16 * 1024;

const harness = usePageHarness({ env: { FILE_MAX_BYTES: String(FILE_MAX_BYTES), RATE_LIMIT_PER_MINUTE: '100000' } });
const t = harness.app;

/** The API as another client: [status, JSON body]. */
async function api(method: string, path: string): Promise<[number, any]> {
  const response = await fetch(`${t.baseUrl}${path}`, { method });
  const body = await response.text();
  return [response.status, body ? JSON.parse(body) : null];
}

/** A page for a user of its own, with the API requests it makes recorded. */
async function openPage(name: string): Promise<{ page: Page; userId: string; sent: Request[] }> {
  const sent: Request[] = [];
  const page = await harness.openPage(undefined, undefined, async (p) => {
    p.on('request', (request) => {
      if (['fetch', 'xhr'].includes(request.resourceType())) sent.push(request);
    });
  });
  const userId = freshUser(name);
  await useUser(page, userId);
  return { page, userId, sent };
}

/** A file as the page's scripts get it: name, browser type ('' for none), bytes. */
type Sample = { name: string; type: string; bytes: Buffer };
const sample = (name: string, type: string, bytes: Buffer): Sample => ({ name, type, bytes });
const wire = (files: Sample[]) => files.map((f) => ({ name: f.name, type: f.type, base64: f.bytes.toString('base64') }));

/**
 * Dispatches, on `selector`, the events of a drag of `files` ending in a drop (or, with `drop`
 * false, only the drag over it); resolves to whether the drop was taken (its default prevented).
 */
async function dragFiles(page: Page, selector: string, files: Sample[], { drop = true } = {}): Promise<boolean> {
  return page.evaluate(
    ({ selector, files, drop }) => {
      const transfer = new DataTransfer();
      for (const f of files) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.type }));
      }
      const target = document.querySelector(selector)!;
      target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      if (!drop) return false;
      return !target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    { selector, files: wire(files), drop },
  );
}

/** Pastes `files` (and `text`, if any) into the message box; resolves to whether the page took the paste over. */
async function pasteInto(page: Page, files: Sample[], text = ''): Promise<boolean> {
  return page.evaluate(
    ({ files, text }) => {
      const transfer = new DataTransfer();
      for (const f of files) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.type }));
      }
      if (text) transfer.setData('text/plain', text);
      const box = document.querySelector('#message')!;
      return !box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    },
    { files: wire(files), text },
  );
}

/** Attaches files through the hidden file input, as the Attach button's picker does. */
async function pick(page: Page, files: Sample[]): Promise<void> {
  await page.setInputFiles(
    '#attach-input',
    files.map((f) => ({ name: f.name, mimeType: f.type, buffer: f.bytes })),
  );
}

type Chip = { name: string; type: string; size: string; status: string; error: string | null; fileId: string | null };

/** The chips of the composer once none is uploading. */
async function settledChips(page: Page): Promise<Chip[]> {
  await page.waitForFunction(() => !document.querySelector('#attachments .attachment[data-status="uploading"]'));
  return page.locator('#attachments .attachment').evaluateAll((items) =>
    items.map((item) => ({
      name: item.querySelector('.attachment-name')!.textContent,
      type: item.querySelector('.attachment-type')!.textContent,
      size: item.querySelector('.attachment-size')!.textContent,
      status: (item as HTMLElement).dataset.status!,
      error: item.querySelector('.attachment-error')?.textContent ?? null,
      fileId: (item as HTMLElement).dataset.fileId ?? null,
    })),
  );
}

async function waitForChips(page: Page, n: number): Promise<Chip[]> {
  await page.waitForFunction((n) => document.querySelectorAll('#attachments .attachment').length === n, n);
  return settledChips(page);
}

/** The files the API holds for `userId`, newest first. */
async function storedFiles(userId: string): Promise<any[]> {
  const [status, page] = await api('GET', `/files?user_id=${encodeURIComponent(userId)}`);
  expect(status).toBe(200);
  return page.data;
}

const PNG = () => sample('chart.png', 'image/png', png(7));
const PDF = () => sample('report.pdf', 'application/pdf', pdf());

describe('attaching files to a message', () => {
  it('attaches by the Attach button: each file is uploaded for the user and shown as a chip with name, type and size', async () => {
    const { page, userId, sent } = await openPage('attach-button');
    const button = page.getByRole('button', { name: 'Attach files' });
    expect(await button.isVisible()).toBe(true);
    expect(await page.getAttribute('#attach-input', 'multiple')).not.toBeNull();

    await pick(page, [PNG(), PDF()]);
    const chips = await waitForChips(page, 2);
    const stored = await storedFiles(userId);
    expect(stored.map((f) => f.name).sort()).toEqual(['chart.png', 'report.pdf']);
    const byName = new Map(stored.map((f) => [f.name, f]));
    expect(chips).toEqual([
      {
        name: 'chart.png',
        type: 'image/png',
        size: `${png(7).length} B`,
        status: 'ready',
        error: null,
        fileId: byName.get('chart.png').file_id,
      },
      {
        name: 'report.pdf',
        type: 'application/pdf',
        size: `${pdf().length} B`,
        status: 'ready',
        error: null,
        fileId: byName.get('report.pdf').file_id,
      },
    ]);
    // The bytes themselves are the body, under their own type: no multipart, no base64.
    const uploads = sent.filter((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/files');
    expect(uploads.map((r) => [new URL(r.url()).searchParams.get('user_id'), r.headers()['content-type']]).sort()).toEqual([
      [userId, 'application/pdf'],
      [userId, 'image/png'],
    ]);
    // An empty box with files is a message: Send is enabled.
    expect(await page.inputValue('#message')).toBe('');
    expect(await page.isEnabled('#send')).toBe(true);
  });

  it('attaches files dropped on the composer, lighting it up while they are dragged over it', async () => {
    const { page, userId } = await openPage('attach-drop');
    await dragFiles(page, '#message', [PNG()], { drop: false });
    expect(await page.locator('#composer.is-drop-target').count()).toBe(1);

    expect(await dragFiles(page, '#message', [PNG()])).toBe(true);
    expect(await page.locator('#composer.is-drop-target').count()).toBe(0);
    const [chip] = await waitForChips(page, 1);
    expect(chip).toMatchObject({ name: 'chart.png', type: 'image/png', status: 'ready' });
    expect((await storedFiles(userId)).map((f) => f.file_id)).toEqual([chip.fileId]);
  });

  it('falls back to the type of the extension when the browser gives a file none (.md, .csv, .txt)', async () => {
    const { page, userId } = await openPage('attach-untyped');
    await dragFiles(page, '#composer', [
      sample('notes.md', '', text('# Notes\n\n- one\n')),
      sample('table.csv', '', text('a,b\n1,2\n')),
      sample('readme.txt', '', text('plain\n')),
    ]);
    const chips = await waitForChips(page, 3);
    expect(chips.map((c) => [c.name, c.type, c.status])).toEqual([
      ['notes.md', 'text/markdown', 'ready'],
      ['table.csv', 'text/csv', 'ready'],
      ['readme.txt', 'text/plain', 'ready'],
    ]);
    expect(new Set((await storedFiles(userId)).map((f) => `${f.name} ${f.mime_type} ${f.modality}`))).toEqual(
      new Set(['notes.md text/markdown text', 'table.csv text/csv text', 'readme.txt text/plain text']),
    );
  });

  it('attaches files pasted into the box, and leaves a paste of text to the box', async () => {
    const { page } = await openPage('attach-paste');
    expect(await pasteInto(page, [sample('image.png', 'image/png', png(9))])).toBe(true);
    const [chip] = await waitForChips(page, 1);
    expect(chip).toMatchObject({ name: 'image.png', type: 'image/png', status: 'ready' });

    // Text only: not taken over (the browser inserts it), and nothing attached.
    expect(await pasteInto(page, [], 'just some text')).toBe(false);
    expect(await page.locator('#attachments .attachment').count()).toBe(1);
  });

  it("shows the API's reason on the chip when it refuses a file (415, 413), and sends only the files it stored", async () => {
    const { page, userId } = await openPage('attach-refused');
    await pick(page, [sample('fake.png', 'image/png', text('not a picture\n'))]);
    await dragFiles(page, '#composer', [sample('big.txt', 'text/plain', text('x'.repeat(FILE_MAX_BYTES + 1)))]);
    await dragFiles(page, '#composer', [sample('page.html', 'text/html', text('<p>hi</p>'))]);
    const chips = await waitForChips(page, 3);
    expect(chips.map((c) => [c.name, c.status])).toEqual([
      ['fake.png', 'failed'],
      ['big.txt', 'failed'],
      ['page.html', 'failed'],
    ]);
    expect(chips[0].error).toMatch(/image\/png/);
    expect(chips[0].error).toMatch(/text\/plain/);
    expect(chips[1].error).toMatch(/\S/);
    expect(await page.locator('#attachments .attachment-error').first().getAttribute('title')).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await page.locator('#attachments .attachment-error').nth(1).getAttribute('title')).toBe('PAYLOAD_TOO_LARGE');
    expect(chips[2].error).toMatch(/text\/html/);
    expect(await storedFiles(userId)).toEqual([]);

    // A refused chip goes with its remove button.
    await page.getByRole('button', { name: 'Remove fake.png' }).click();
    expect((await settledChips(page)).map((c) => c.name)).toEqual(['big.txt', 'page.html']);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('message');
  });

  it('holds back Send while a file uploads, with the chip marked as uploading', async () => {
    const { page } = await openPage('attach-pending');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(
      (url) => url.pathname === '/files',
      async (route) => {
        await released;
        await route.continue();
      },
    );
    await pick(page, [PNG()]);
    const chip = page.locator('#attachments .attachment[data-status="uploading"]');
    await chip.waitFor();
    expect(await chip.locator('progress').getAttribute('aria-label')).toBe('Uploading chart.png');
    expect(await page.isDisabled('#send')).toBe(true);

    release();
    await page.locator('#attachments .attachment[data-status="ready"]').waitFor();
    expect(await page.isEnabled('#send')).toBe(true);
  });

  it('takes at most 10 files a message and says how many were left out', async () => {
    const { page } = await openPage('attach-ten');
    const files = Array.from({ length: 12 }, (_, i) => sample(`note-${i}.txt`, 'text/plain', text(`note ${i}\n`)));
    await dragFiles(page, '#composer', files);
    const chips = await waitForChips(page, 10);
    expect(chips.map((c) => c.name)).toEqual(files.slice(0, 10).map((f) => f.name));
    expect(await page.textContent('#attach-status')).toBe('At most 10 files a message: 2 files not attached.');
    expect(await page.isDisabled('#attach')).toBe(true);

    await page.getByRole('button', { name: 'Remove note-0.txt' }).click();
    expect(await page.isEnabled('#attach')).toBe(true);
    expect(await page.locator('#attach-status').isHidden()).toBe(true);
  });
});

// These need turns that take `attachments` (the files in turns, POST /sessions/:id/messages and
// /estimate): against a server without them, the API refuses the field.
describe('whose files a message carries', () => {
  it("drops files attached for one user when a session of another user opens: a turn may name only its owner's files", async () => {
    const { page, userId } = await openPage('owner-a');
    await send(page, 'hello');
    await pick(page, [PNG()]);
    await waitForChips(page, 1);
    expect((await storedFiles(userId)).map((f) => f.name)).toEqual(['chart.png']);

    const other = freshUser('owner-b');
    const created = await fetch(`${t.baseUrl}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: other, title: 'B' }),
    });
    const { session_id: theirs } = await created.json();
    await useUser(page, other);
    await page.locator(`.session-item[data-session-id="${theirs}"]`).click();
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value === id, theirs);

    await waitForChips(page, 0);
  });
});

describe('sending files with a message', () => {
  it('sends files alone: the request names them, the image shows inline, the chips clear', async () => {
    const { page, sent } = await openPage('send-image');
    await pick(page, [PNG()]);
    const [chip] = await waitForChips(page, 1);
    await page.click('#send');
    await models(page).first().waitFor();

    const turn = sent.find((r) => r.method() === 'POST' && /\/sessions\/[^/]+\/messages$/.test(new URL(r.url()).pathname))!;
    expect(turn.postDataJSON()).toEqual({ message: '', attachments: [{ file_id: chip.fileId }] });
    const sessionId = await page.inputValue('#session-id');
    const [, history] = await api('GET', `/sessions/${sessionId}/history`);
    expect(history.messages[0].attachments).toEqual([
      expect.objectContaining({
        file_id: chip.fileId,
        name: 'chart.png',
        mime_type: 'image/png',
        modality: 'image',
        bytes: png(7).length,
        deleted: false,
      }),
    ]);
    // What Gemini was sent: the image's bytes.
    const generated = t.emulator.generateRequests().at(-1)!;
    expect(JSON.stringify(generated.body)).toContain(png(7).toString('base64'));

    const image = page.locator('#messages [data-role="user"] .message-attachments img');
    await page.waitForFunction(
      () => (document.querySelector('#messages .message-attachments img') as HTMLImageElement)?.naturalWidth === 1,
    );
    const src = (await image.getAttribute('src'))!;
    expect(src).toMatch(/^blob:/);
    expect(await image.getAttribute('alt')).toBe('chart.png');
    expect(await page.locator('#attachments .attachment').count()).toBe(0);
    expect(await page.locator('#attachments').isHidden()).toBe(true);

    // Another session shown: the thumbnail's object URL is revoked.
    await page.click('#new-session');
    await page.waitForFunction((id) => (document.querySelector('#session-id') as HTMLInputElement).value !== id, sessionId);
    expect(
      await page.evaluate(
        (url) =>
          fetch(url).then(
            () => 'readable',
            () => 'revoked',
          ),
        src,
      ),
    ).toBe('revoked');
  });

  it('shows other files as chips that download with their name and bytes, and a deleted one struck through', async () => {
    const { page } = await openPage('send-pdf');
    await pick(page, [PDF()]);
    const [chip] = await waitForChips(page, 1);
    await page.fill('#message', 'Summarise this report');
    await page.press('#message', 'Enter');
    await models(page).first().waitFor();

    const file = page.locator(`#messages .message-attachments [data-file-id="${chip.fileId}"] button`);
    expect(await file.textContent()).toBe(`report.pdfapplication/pdf${pdf().length} B`);
    const [download] = await Promise.all([page.waitForEvent('download'), file.click()]);
    expect(download.suggestedFilename()).toBe('report.pdf');
    const { readFile } = await import('node:fs/promises');
    expect(Buffer.compare(await readFile(await download.path()), pdf())).toBe(0);

    // For a look at the layout: a sent file, and chips of every state in the composer.
    await pick(page, [PNG(), sample('fake.png', 'image/png', text('not a picture\n'))]);
    await waitForChips(page, 2);
    await page.screenshot({ path: '/tmp/page-attachments.png', fullPage: true });

    const [status] = await api('DELETE', `/files/${chip.fileId}`);
    expect(status).toBe(204);
    await page.reload();
    await page.waitForSelector('body[data-ready]');
    const deleted = page.locator(`#messages .message-attachments [data-file-id="${chip.fileId}"]`);
    await deleted.waitFor();
    expect(await deleted.textContent()).toBe('report.pdf (deleted)');
    expect(await deleted.locator('button').count()).toBe(0);
    expect(await deleted.locator('.attachment-name').evaluate((el) => getComputedStyle(el).textDecorationLine)).toBe('line-through');
  });

  it('keeps the chips when the send fails, and sends them again on retry', async () => {
    const { page, sent } = await openPage('send-fails');
    await pick(page, [PNG()]);
    const [chip] = await waitForChips(page, 1);
    t.emulator.enqueue({ status: 500 });
    await page.fill('#message', 'Look at this');
    await page.click('#send');
    await page.locator('#send-error').waitFor({ state: 'visible' });
    expect((await settledChips(page)).map((c) => c.fileId)).toEqual([chip.fileId]);
    expect(await page.locator('#messages > *').count()).toBe(0);

    await page.click('#retry-send');
    await models(page).first().waitFor();
    const turns = sent.filter((r) => r.method() === 'POST' && /\/messages$/.test(new URL(r.url()).pathname));
    expect(turns.map((r) => r.postDataJSON())).toEqual([
      { message: 'Look at this', attachments: [{ file_id: chip.fileId }] },
      { message: 'Look at this', attachments: [{ file_id: chip.fileId }] },
    ]);
    expect(turns[1].headers()['idempotency-key']).toBe(turns[0].headers()['idempotency-key']);
    expect(await page.locator('#attachments .attachment').count()).toBe(0);
  });

  it('estimates the message with its files, again whenever they change', async () => {
    const { page, sent } = await openPage('estimate-files');
    await page.click('#new-session');
    await page.waitForFunction(() => (document.querySelector('#session-id') as HTMLInputElement).value !== '');
    const estimates = () => sent.filter((r) => new URL(r.url()).pathname.endsWith('/estimate')).map((r) => r.postDataJSON());

    await pick(page, [PNG()]);
    const [chip] = await waitForChips(page, 1);
    await page.waitForFunction(() => {
      const line = document.querySelector<HTMLElement>('#estimate')!;
      return !line.hidden && line.dataset.stale === undefined && /prompt tokens?/.test(line.textContent);
    });
    expect(estimates().at(-1)).toEqual({ message: '', attachments: [{ file_id: chip.fileId }] });
    const imageOnly = (await page.textContent('#estimate'))!;

    // Another file is another message: asked for again, with both.
    await pick(page, [PDF()]);
    const [, pdfChip] = await waitForChips(page, 2);
    const both = { message: '', attachments: [{ file_id: chip.fileId }, { file_id: pdfChip.fileId }] };
    await waitFor('the estimate of both files', () => JSON.stringify(estimates().at(-1)) === JSON.stringify(both));
    await page.waitForFunction((before) => document.querySelector('#estimate')!.textContent !== before, imageOnly);

    const pdfOnly = { message: '', attachments: [{ file_id: pdfChip.fileId }] };
    await page.getByRole('button', { name: 'Remove chart.png' }).click();
    await waitFor('the estimate of the file left', () => JSON.stringify(estimates().at(-1)) === JSON.stringify(pdfOnly));

    // Neither text nor files: nothing to estimate.
    await page.getByRole('button', { name: 'Remove report.pdf' }).click();
    await page.locator('#estimate').waitFor({ state: 'hidden' });
  });
});
