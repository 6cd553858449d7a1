import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { runServer, SERVER_TEST_TIMEOUT_MS } from '../support/server-process.js';

jest.setTimeout(SERVER_TEST_TIMEOUT_MS);

/** The built server, started as users start it. */
describe('Starting the server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'boot-'));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a non-numeric PORT', { PORT: 'eighty' }, /^Invalid configuration: PORT /],
    ['an out-of-range PORT', { PORT: '70000' }, /^Invalid configuration: PORT /],
    ['an unknown DATABASE_URL scheme', { DATABASE_URL: 'mysql://db/chat' }, /^Invalid configuration: DATABASE_URL .*"mysql"/],
    ['a non-numeric GEMINI_TIMEOUT_MS', { GEMINI_TIMEOUT_MS: 'soon' }, /^Invalid configuration: GEMINI_TIMEOUT_MS /],
    ['a PRICING_FILE that does not exist', { PRICING_FILE: '/nonexistent/prices.json' }, /^Invalid configuration: PRICING_FILE /],
  ])('stops on %s with one line naming the variable', async (_name, env, line) => {
    const server = runServer({ DATABASE_URL: `sqlite:${join(dir, 'bad.db')}`, ...env });
    expect(await server.exited).toBe(1);
    const lines = server
      .output()
      .trim()
      .split('\n')
      .filter((l) => !/\bLOG\b/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });

  it('starts in offline mode with no Gemini variables, says so, and answers a chat', async () => {
    const server = runServer({ DATABASE_URL: `sqlite:${join(dir, 'offline', 'chat.db')}` });
    try {
      const baseUrl = await server.ready;
      expect(server.output()).toMatch(/OFFLINE MODE/);
      await request(baseUrl)
        .get('/health')
        .expect(200, { status: 'ok', database: 'up', gemini: 'emulator', auth: 'off', model_notices: [] });
      const chat = await request(baseUrl).post('/chat').send({ user_id: 'u', message: 'hello offline' }).expect(200);
      expect(chat.body.response).toContain('hello offline');
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });

  it('never logs the Gemini API key', async () => {
    const emulator = new GeminiEmulator({ recordRequests: true });
    const baseUrl = await emulator.start(0, '127.0.0.1');
    const key = `canary-${Date.now()}-key`;
    const server = runServer({ DATABASE_URL: `sqlite:${join(dir, 'canary.db')}`, GEMINI_API_KEY: key, GEMINI_BASE_URL: baseUrl });
    try {
      const url = await server.ready;
      const session = await request(url).post('/sessions').send({}).expect(201);
      await request(url).post(`/sessions/${session.body.session_id}/messages`).send({ message: 'hi' }).expect(201);
      emulator.enqueue({ status: 403, errorMessage: `API key ${key} not valid` });
      const failed = await request(url).post(`/sessions/${session.body.session_id}/messages`).send({ message: 'hi' }).expect(502);
      expect(JSON.stringify(failed.body)).not.toContain(key);
      expect(emulator.requests.at(-1)!.headers['x-goog-api-key']).toBe(key);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await emulator.stop();
    }
    expect(server.output()).not.toContain(key);
  });
});
