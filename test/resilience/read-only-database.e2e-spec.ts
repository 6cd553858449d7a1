import request from 'supertest';
import { createSession, errorBody, historyRows, send } from '../support/http.js';
import { setReadOnly } from '../support/read-only-database.js';
import { streamMessage } from '../support/sse.js';
import type { SseEvent } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/**
 * A database that answers but cannot take writes (read-only, or what a full disk does to it), on
 * both databases: writes are 503 NOT_READY with Retry-After — never 500 — and store nothing,
 * reads go on, /health/ready says the database cannot write, and all is back once it can.
 */
describe('A database that cannot take writes', () => {
  const t = useTestApp();

  afterEach(async () => {
    await setReadOnly(t, false);
    await waitFor('the database to take writes again', () => request(t.baseUrl).get('/health/ready'), { until: (r) => r.status === 200 });
  });

  /** The warnings and errors logged about one request. */
  const logsOf = (response: request.Response) => t.logs.filter((line) => line.includes(String(response.headers['x-request-id'])));

  it('answers writes 503 NOT_READY, serves reads, says so in /health/ready, and stores nothing', async () => {
    const sessionId = await createSession(t, { user_id: 'reader', title: 'kept' });
    await request(t.baseUrl).get('/health/ready').expect(200, { status: 'ready', database: 'up' });
    await setReadOnly(t, true);

    const refused = await request(t.baseUrl).post('/sessions').send({ user_id: 'newcomer', title: 'a secret title' }).expect(503);
    expect(refused.body).toEqual(errorBody(503, 'NOT_READY'));
    expect(refused.body.message).toBe('The database cannot take writes right now (it is read-only or its disk is full): try again later.');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The real error is logged once, with the driver's code, and without what the client wrote.
    expect(logsOf(refused)).toEqual([
      expect.stringMatching(/^WARN \[HttpExceptionFilter\] .* POST \/sessions: NOT_READY \(database read-only: (SQLITE_READONLY|25006) /),
    ]);
    expect(t.logs.join('\n')).not.toContain('a secret title');

    const renamed = await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ title: 'changed' }).expect(503);
    expect(renamed.body).toEqual(errorBody(503, 'NOT_READY'));
    const session = await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200);
    expect(session.body.title).toBe('kept');

    // A turn writes its reservation before it calls Gemini: refused there, before any spend.
    const turn = await send(t, sessionId, 'would be paid for and lost').expect(503);
    expect(turn.body).toEqual(errorBody(503, 'NOT_READY'));
    expect(t.emulator.generateRequests()).toHaveLength(0);

    const ready = await waitFor('/health/ready to say the database cannot write', () => request(t.baseUrl).get('/health/ready'), {
      until: (r) => r.body.database === 'read-only',
    });
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'ready', database: 'read-only' });
    // Liveness is not readiness: the process is fine, restarting it would not help.
    await request(t.baseUrl).get('/health').expect(200);

    expect(await t.query("SELECT user_id FROM users WHERE user_id = 'newcomer'")).toEqual([]);
    expect(await t.query("SELECT chat_id FROM chat_sessions WHERE title = 'a secret title'")).toEqual([]);

    await setReadOnly(t, false);
    await waitFor('/health/ready to say the database takes writes again', () => request(t.baseUrl).get('/health/ready'), {
      until: (r) => r.status === 200 && r.body.database === 'up',
    });
    await request(t.baseUrl).post('/sessions').send({ user_id: 'newcomer' }).expect(201);
  });

  it('answers a turn whose reply cannot be stored 503 NOT_READY, and stores nothing of it', async () => {
    const sessionId = await createSession(t);
    await send(t, sessionId, 'stored before').expect(201);
    t.emulator.enqueue({ delayMs: 500, text: 'paid for, never stored' });
    const turn = send(t, sessionId, 'while the database turns read-only').then((response) => response);
    await waitFor('the turn to reach Gemini', () => t.emulator.generateRequests().length === 2);
    await setReadOnly(t, true);

    const response = await turn;
    expect(response.status).toBe(503);
    expect(response.body).toEqual(errorBody(503, 'NOT_READY'));
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect((await historyRows(t, sessionId)).map((row) => row.content)).toEqual(['stored before', expect.any(String)]);
  });

  it('ends a streamed turn whose reply cannot be stored with an error event carrying NOT_READY', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ text: 'one two three four five six seven eight', chunkDelayMs: 400 });
    let turnedReadOnly: Promise<void> | undefined;
    const result = await streamMessage(t.baseUrl, sessionId, 'stream me', {
      onEvent: (event: SseEvent) => {
        if (event.event === 'delta') turnedReadOnly ??= setReadOnly(t, true);
      },
    });
    await turnedReadOnly;
    expect(result.status).toBe(200);
    expect(result.events.at(-1)).toEqual({
      event: 'error',
      id: expect.stringMatching(/^[0-9a-f-]{36}:\d+$/),
      data: errorBody(503, 'NOT_READY'),
    });
    expect(result.events.filter((event) => event.event === 'delta').length).toBeGreaterThan(0);
    expect(t.logs).toContainEqual(expect.stringMatching(/streamed turn: NOT_READY \(database read-only: /));
    expect(await historyRows(t, sessionId)).toEqual([]);
  });
});
