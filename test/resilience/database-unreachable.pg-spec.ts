import { jest } from '@jest/globals';
import request from 'supertest';
import { createSession, errorBody, historyRows, send } from '../support/http.js';
import { streamMessage } from '../support/sse.js';
import type { SseEvent } from '../support/sse.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { APP_HOOK_TIMEOUT_MS, startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';
import type { TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait.js';

/** A silent host costs a request the 5 s connect timeout; a busy 2-core machine adds to it. */
jest.setTimeout(30_000);

/**
 * PostgreSQL going away under a running instance: the app reaches its database through a TCP
 * proxy the spec cuts (the server stopped, its host gone) or silences (a host that drops
 * packets). Every request that needs the database is 503 NOT_READY with Retry-After — never a 500,
 * never a wait without end — and all is back once the database is.
 */
describe('An unreachable PostgreSQL', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startTcpProxy(database.url);
    t = await startTestApp({ database: { ...database, url: proxy.urlFor(database.url) } });
  }, APP_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await proxy?.restore();
    await t?.close({ keepData: true });
    await proxy?.close();
    await database?.drop();
  }, APP_HOOK_TIMEOUT_MS);

  afterEach(async () => {
    await proxy.restore();
    await waitFor('the database to be back', () => request(t.baseUrl).get('/health/ready'), {
      until: (r) => r.status === 200,
      timeoutMs: 10_000,
    });
  });

  beforeEach(() => t.emulator.reset());

  const expectNotReady = (response: { status: number; body: unknown; headers: Record<string, string> }) => {
    expect(response.status).toBe(503);
    expect(response.body).toEqual(errorBody(503, 'NOT_READY'));
    expect((response.body as { message: string }).message).toBe('The database cannot be reached right now: try again shortly.');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  };

  it('answers a turn, a session and readiness 503 NOT_READY, calls nobody, and recovers', async () => {
    const sessionId = await createSession(t);
    await send(t, sessionId, 'before the outage').expect(201);
    await proxy.cut();

    expectNotReady(await send(t, sessionId, 'during the outage'));
    expectNotReady(await request(t.baseUrl).get(`/sessions/${sessionId}`));
    expectNotReady(await request(t.baseUrl).post('/sessions').send({ user_id: 'newcomer' }));
    // A streamed turn that fails before its first delta answers as JSON, like any other.
    const streamed = await streamMessage(t.baseUrl, sessionId, 'streamed during the outage');
    expect(streamed.status).toBe(503);
    expect(JSON.parse(streamed.body)).toEqual(errorBody(503, 'NOT_READY'));
    const ready = await request(t.baseUrl).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'ready', database: 'down' });
    expect(t.emulator.generateRequests()).toHaveLength(1);
    expect(t.logs).toContainEqual(expect.stringMatching(/POST \/sessions\/\S+\/messages: NOT_READY \(database unavailable: /));
    expect(t.logs.join('\n')).not.toContain('during the outage');

    await proxy.restore();
    await waitFor('/health/ready to say the database is back', () => request(t.baseUrl).get('/health/ready'), {
      until: (r) => r.status === 200 && r.body.database === 'up',
      timeoutMs: 10_000,
    });
    // Connections the outage broke may fail once more each, as NOT_READY too; then turns go through.
    const after = await waitFor('a turn to go through', () => send(t, sessionId, 'after the outage'), {
      until: (r) => r.status !== 503,
      timeoutMs: 10_000,
    });
    expect(after.status).toBe(201);
    expect((await historyRows(t, sessionId)).map((row) => row.content)).toEqual([
      'before the outage',
      expect.any(String),
      'after the outage',
      expect.any(String),
    ]);
  });

  it('ends a streamed turn with an error event carrying NOT_READY when the database goes away mid-stream', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ text: 'one two three four five six seven eight', chunkDelayMs: 400 });
    let cut: Promise<void> | undefined;
    const result = await streamMessage(t.baseUrl, sessionId, 'stream me', {
      onEvent: (event: SseEvent) => {
        if (event.event === 'delta') cut ??= proxy.cut();
      },
    });
    await cut;
    expect(result.status).toBe(200);
    expect(result.events.at(-1)).toEqual({
      event: 'error',
      id: expect.stringMatching(/^[0-9a-f-]{36}:\d+$/),
      data: errorBody(503, 'NOT_READY'),
    });
    await proxy.restore();
    const history = await waitFor('the session to be readable again', () => request(t.baseUrl).get(`/sessions/${sessionId}/history`), {
      until: (r) => r.status === 200,
      timeoutMs: 10_000,
    });
    expect(history.body.messages).toEqual([]);
  });

  it('answers 503 NOT_READY within the connect timeout when the host drops packets', async () => {
    const sessionId = await createSession(t);
    proxy.silence();
    const started = Date.now();
    expectNotReady(await request(t.baseUrl).get(`/sessions/${sessionId}`));
    // pg waits for ever by default; the service gives a connection 5 s.
    expect(Date.now() - started).toBeLessThan(15_000);
    const ready = await request(t.baseUrl).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'ready', database: 'down' });
  });
});
