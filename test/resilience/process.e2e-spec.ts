import { jest } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { runServer, SERVER_TEST_TIMEOUT_MS } from '../support/server-process.js';
import { streamMessage } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

jest.setTimeout(SERVER_TEST_TIMEOUT_MS);

/** The built server as a process: what it logs, what it leaves on disk, how it stops. */
describe('The server process', () => {
  const emulator = new GeminiEmulator({ recordRequests: true });
  let geminiUrl: string;
  let dir: string;

  beforeAll(async () => {
    geminiUrl = await emulator.start(0, '127.0.0.1');
    dir = mkdtempSync(join(tmpdir(), 'process-'));
  });

  afterAll(async () => {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => emulator.reset());

  it.each(['text', 'json'])('logs one line per request (LOG_FORMAT=%s), with no colour codes on a pipe', async (format) => {
    const server = runServer({
      DATABASE_URL: `sqlite:${join(dir, `log-${format}`, 'chat.db')}`,
      GEMINI_API_KEY: 'k',
      GEMINI_BASE_URL: geminiUrl,
      LOG_FORMAT: format,
    });
    try {
      const url = await server.ready;
      for (let i = 0; i < 3; i++) await request(url).get('/health').expect(200);
      await request(url).get('/nope').expect(404);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const lines = server.output().split('\n').filter(Boolean);
    expect(server.output()).not.toContain('\x1b[');
    if (format === 'json') for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const requestLines = lines.filter((line) => /\b(?:GET|POST) \//.test(line));
    expect(requestLines.map((line) => /(GET \/\S+ \d{3})/.exec(line)?.[1])).toEqual([
      'GET /health 200',
      'GET /health 200',
      'GET /health 200',
      'GET /nope 404',
    ]);
  });

  it('names a retired GEMINI_MODEL at start, with its replacement, and still serves it', async () => {
    const server = runServer({
      DATABASE_URL: `sqlite:${join(dir, 'retired', 'chat.db')}`,
      GEMINI_API_KEY: 'k',
      GEMINI_BASE_URL: geminiUrl,
      GEMINI_MODEL: 'gemini-2.5-flash',
    });
    try {
      const url = await server.ready;
      await request(url).post('/chat').send({ user_id: 'old-model', message: 'still there?' }).expect(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const notice = server
      .output()
      .split('\n')
      .find((line) => line.includes('MODEL NOTICE'));
    expect(notice).toContain(
      'gemini-2.5-flash is retired (shut down 2026-12-01); Google names gemini-3.5-flash-lite in its place; GEMINI_MODEL uses it',
    );
  });

  it('never shows the Gemini API key: not in a log line, a response body or the database file', async () => {
    const canary = `AIza-canary-${process.pid}-${Date.now()}`;
    const dataDir = join(dir, 'canary');
    const server = runServer({
      DATABASE_URL: `sqlite:${join(dataDir, 'chat.db')}`,
      GEMINI_API_KEY: canary,
      GEMINI_BASE_URL: geminiUrl,
      GEMINI_TIMEOUT_MS: '800',
      GEMINI_RETRIES: '1',
      LOG_FORMAT: 'json',
    });
    const bodies: string[] = [];
    try {
      const url = await server.ready;
      const keep = (response: { text: string }) => bodies.push(response.text);
      const session = (await request(url).post('/sessions').send({ user_id: 'canary' }).expect(201)).body.session_id;
      const turn = (message: string) => request(url).post(`/sessions/${session}/messages`).send({ message });
      // Upstream answers that quote the key back, as a real 400/403 may.
      const echo = `API key not valid: ${canary}`;
      emulator.enqueue(
        { text: 'fine' },
        { status: 403, errorMessage: echo },
        { status: 400, errorMessage: echo },
        { status: 429, errorMessage: echo },
        { status: 429, errorMessage: echo },
        { status: 500, errorMessage: echo },
        { delayMs: 5_000 },
        { malformed: true },
        { breakAfterChunks: 0 },
        { blocked: 'SAFETY' },
      );
      for (const expected of [201, 502, 502, 503, 502, 504, 502, 502, 422]) keep(await turn(`turn ${expected}`).expect(expected));
      emulator.enqueue({ text: 'streaming a while', streamErrorAfterChunks: 1, errorMessage: echo });
      bodies.push((await streamMessage(url, session, 'stream')).body);
      keep(await request(url).post('/chat').send({ user_id: 'canary', message: '' }).expect(400));
      keep(await request(url).get('/nope').expect(404));
      keep(await request(url).get('/health').expect(200));
      expect(emulator.generateRequests().every((r) => r.headers['x-goog-api-key'] === canary)).toBe(true);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    expect(bodies.join('\n')).not.toContain(canary);
    expect(server.output()).not.toContain(canary);
    expect(server.output()).toContain('"level"');
    for (const file of readdirSync(dataDir)) {
      expect({ file, containsKey: readFileSync(join(dataDir, file)).includes(canary) }).toEqual({ file, containsKey: false });
    }
  });

  it('on SIGTERM stops accepting, finishes the turn in flight and stores it, then exits 0', async () => {
    const server = runServer({
      DATABASE_URL: `sqlite:${join(dir, 'graceful', 'chat.db')}`,
      GEMINI_API_KEY: 'k',
      GEMINI_BASE_URL: geminiUrl,
    });
    const url = await server.ready;
    const session = (await request(url).post('/sessions').send({}).expect(201)).body.session_id;
    emulator.enqueue({ delayMs: 1_000, text: 'finished after SIGTERM' });
    const inFlight = request(url).post(`/sessions/${session}/messages`).send({ message: 'slow one' });
    const answer: Promise<request.Response> = inFlight.then((response) => response);
    // Once the turn is at Gemini, ask the server to stop.
    await waitFor('the turn to reach Gemini', () => emulator.generateRequests().length > 0, { timeoutMs: 10_000 });
    server.child.kill('SIGTERM');
    const response = await answer;
    expect(response.status).toBe(201);
    expect(response.body.reply).toBe('finished after SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/SIGTERM: no new connections/);

    // The stored turn is there after a restart.
    const again = runServer({
      DATABASE_URL: `sqlite:${join(dir, 'graceful', 'chat.db')}`,
      GEMINI_API_KEY: 'k',
      GEMINI_BASE_URL: geminiUrl,
    });
    try {
      const history = await request(await again.ready)
        .get(`/sessions/${session}/history`)
        .expect(200);
      expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['slow one', 'finished after SIGTERM']);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });

  it('holds its SQLite file: a second process on it refuses to start in one line, and a killed one leaves no lock behind', async () => {
    const file = join(dir, 'single', 'chat.db');
    const env = { DATABASE_URL: `sqlite:${file}`, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: geminiUrl };
    const first = runServer(env);
    let third: ReturnType<typeof runServer> | undefined;
    try {
      const url = await first.ready;
      const session = (await request(url).post('/sessions').send({}).expect(201)).body.session_id;

      const second = runServer(env);
      expect(await second.exited).toBe(1);
      expect(second.output().trim().split('\n')).toEqual([
        `The SQLite file ${file} is in use by another process. SQLite is one process per file: stop the other one, or use PostgreSQL (DATABASE_URL=postgres://…) to run several instances.`,
      ]);
      // The first never noticed: it serves and stores on.
      await request(url).post(`/sessions/${session}/messages`).send({ message: 'still mine' }).expect(201);

      // The lock is the operating system's: it goes with the process, however it ends.
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      third = runServer(env);
      const history = await request(await third.ready)
        .get(`/sessions/${session}/history`)
        .expect(200);
      expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['still mine', expect.any(String)]);
    } finally {
      first.child.kill('SIGKILL');
      third?.child.kill('SIGTERM');
      await Promise.all([first.exited, third?.exited]);
    }
  });

  it('sends security headers, a CSP the page works under, and no X-Powered-By', async () => {
    const server = runServer({
      DATABASE_URL: `sqlite:${join(dir, 'headers', 'chat.db')}`,
      GEMINI_API_KEY: 'k',
      GEMINI_BASE_URL: geminiUrl,
      CORS_ORIGINS: 'https://app.example.com',
    });
    try {
      const url = await server.ready;
      const page = await request(url).get('/').expect(200);
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['x-powered-by']).toBeUndefined();
      const api = await request(url).get('/models').expect(200);
      expect(api.headers['cache-control']).toBe('no-store');
      await request(url).get('/docs').redirects(1).expect(200);
      const allowed = await request(url)
        .options('/sessions')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'POST');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      const other = await request(url).get('/models').set('Origin', 'https://evil.example.com');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('has CORS off unless CORS_ORIGINS lists origins', async () => {
    const server = runServer({ DATABASE_URL: `sqlite:${join(dir, 'nocors', 'chat.db')}`, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: geminiUrl });
    try {
      const url = await server.ready;
      const response = await request(url).get('/models').set('Origin', 'https://app.example.com').expect(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
