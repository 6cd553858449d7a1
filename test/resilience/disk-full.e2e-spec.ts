import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { errorBody, historyRows, send } from '../support/http.js';
import { APP_HOOK_TIMEOUT_MS, startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/** Fills the file system of `dir` to the last byte with one file; returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const block = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * The SQLite file on a full disk, for real: a small tmpfs of its own (mounting one needs root, as
 * `npm test` has to install PostgreSQL and Chromium), filled to the last byte while the app runs.
 * Readiness says the database cannot write, writes are 503 NOT_READY (never 500) and store
 * nothing, reads go on; freeing space brings everything back, the file intact.
 */
describe('The SQLite file on a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'disk-full-'));
  let t: TestApp;

  beforeAll(async () => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(`this spec mounts a small tmpfs and needs root for it: ${(error as Error).message}`, { cause: error });
    }
    t = await startTestApp({ database: { url: `sqlite:${join(dir, 'chat.db')}`, kind: 'sqlite', drop: async () => undefined } });
  }, APP_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }, APP_HOOK_TIMEOUT_MS);

  it('says so in /health/ready, answers writes 503 NOT_READY, stores nothing, and recovers when space is freed', async () => {
    const sessionId = (await request(t.baseUrl).post('/sessions').send({ user_id: 'before' }).expect(201)).body.session_id as string;
    await send(t, sessionId, 'stored before').expect(201);
    await request(t.baseUrl).get('/health/ready').expect(200, { status: 'ready', database: 'up' });

    const filler = fill(dir);
    const ready = await request(t.baseUrl).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'ready', database: 'read-only' });

    const created = await request(t.baseUrl).post('/sessions').send({ user_id: 'during' });
    expect(created.status).toBe(503);
    expect(created.body).toEqual(errorBody(503, 'NOT_READY'));
    expect(Number(created.headers['retry-after'])).toBeGreaterThan(0);
    expect(t.logs).toContainEqual(expect.stringMatching(/POST \/sessions: NOT_READY \(database read-only: SQLITE_FULL /));
    const calls = t.emulator.generateRequests().length;
    const turn = await send(t, sessionId, 'on a full disk');
    expect(turn.status).toBe(503);
    expect(turn.body).toEqual(errorBody(503, 'NOT_READY'));
    // Refused when it wrote its reservation, before it called Gemini: nothing was spent.
    expect(t.emulator.generateRequests()).toHaveLength(calls);
    const history = await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['stored before', expect.any(String)]);

    unlinkSync(filler);
    await waitFor('/health/ready to say the database takes writes again', () => request(t.baseUrl).get('/health/ready'), {
      until: (r) => r.status === 200,
    });
    await request(t.baseUrl).post('/sessions').send({ user_id: 'after' }).expect(201);
    await send(t, sessionId, 'stored after').expect(201);
    expect(await t.query("SELECT user_id FROM users WHERE user_id IN ('before', 'during', 'after') ORDER BY user_id")).toEqual([
      { user_id: 'after' },
      { user_id: 'before' },
    ]);
    expect((await historyRows(t, sessionId)).map((row) => row.content)).toEqual([
      'stored before',
      expect.any(String),
      'stored after',
      expect.any(String),
    ]);
    expect(await t.query('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });
});
