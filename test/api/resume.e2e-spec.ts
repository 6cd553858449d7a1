import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createSession, historyRows } from '../support/http.js';
import { streamMessage, turnEvents } from '../support/sse.js';
import type { SseEvent, SseResult } from '../support/sse.js';
import { startTestApp, useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/** Four chunks of the emulator's stream, 300 ms apart: time to drop, resume and cancel in between. */
const REPLY = 'Once upon a time a turn was streamed, its client dropped the line, and nothing that was paid for got lost.';
const SLOW = { text: REPLY, chunkDelayMs: 300 };
const TIMEOUT_MS = 30_000;

const deltasOf = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.text)
    .join('');

/** The ids of a stream are `<turn_id>:1`, `:2`, … from `first`, with no gap. */
function expectIds(events: SseEvent[], turnId: string, first: number): void {
  expect(events.map((e) => e.id)).toEqual(events.map((_, i) => `${turnId}:${first + i}`));
}

async function ledgerLines(t: TestApp, sessionId: string): Promise<number> {
  const [row] = await t.query('SELECT COUNT(*) AS n FROM spend_ledger WHERE session_id = ?', [sessionId]);
  return Number(row.n);
}

/** A turn streamed until its first delta, then dropped: what the client got. */
async function dropped(t: TestApp, sessionId: string, message: string): Promise<SseResult> {
  const result = await streamMessage(t.baseUrl, sessionId, message, { disconnectAfterDeltas: 1 });
  expect(result.events.map((e) => e.event)).toEqual(['turn', 'delta']);
  return result;
}

/** A turn streamed to its end, cancelled (POST …/cancel) when its first delta arrived. */
async function streamAndCancel(t: TestApp, sessionId: string, message: string) {
  let turnId = '';
  let cancel: Promise<request.Response> | undefined;
  const streamed = await streamMessage(t.baseUrl, sessionId, message, {
    onEvent: (event) => {
      if (event.event === 'turn') turnId = event.data.turn_id;
      // Sent now (a supertest request starts when it is awaited): while the turn still streams.
      if (event.event === 'delta')
        cancel ??= request(t.baseUrl)
          .post(`/sessions/${sessionId}/turns/${turnId}/cancel`)
          .send()
          .then((r) => r);
    },
  });
  return { streamed, cancel: cancel! };
}

describe('Streams that survive: resume, re-attach, cancel', () => {
  const t = useTestApp();

  it(
    'resumes a dropped stream mid-turn with Last-Event-ID: the rest of that turn, one call, one turn, one charge',
    async () => {
      const sessionId = await createSession(t);
      t.emulator.enqueue(SLOW);
      const first = await dropped(t, sessionId, 'tell me');
      const turnId = first.events[0].data.turn_id;
      expectIds(first.events, turnId, 1);

      const rest = await streamMessage(t.baseUrl, sessionId, 'tell me', { headers: { 'last-event-id': first.events.at(-1)!.id! } });
      expect(rest.status).toBe(200);
      expect(rest.body.startsWith('retry: ')).toBe(true);
      expect(rest.events.at(-1)!.event).toBe('done');
      expectIds(rest.events, turnId, 3);
      // Followed live: it came before the turn was over, the turn is stored once.
      expect(deltasOf(first.events) + deltasOf(rest.events)).toBe(REPLY);
      expect(rest.events.at(-1)!.data.model_message).toMatchObject({ content: REPLY, finish_reason: 'STOP' });

      const rows = await historyRows(t, sessionId);
      expect(rows.map((r) => r.content)).toEqual(['tell me', REPLY]);
      expect(t.emulator.generateRequests()).toHaveLength(1);
      expect(await ledgerLines(t, sessionId)).toBe(1);
    },
    TIMEOUT_MS,
  );

  it(
    'replays the rest of a finished turn, and re-attaches by id from its first event or after Last-Event-ID',
    async () => {
      const sessionId = await createSession(t);
      t.emulator.enqueue(SLOW);
      const first = await dropped(t, sessionId, 'again');
      const turnId = first.events[0].data.turn_id;
      await waitFor('the turn to be stored', () => historyRows(t, sessionId), { until: (rows) => rows.length === 2, timeoutMs: 10_000 });
      await waitFor('the turn to be over', async () => (await request(t.baseUrl).get(`/sessions/${sessionId}`)).body.active_turn_id, {
        until: (id) => id === null,
      });

      const rest = await streamMessage(t.baseUrl, sessionId, 'again', { headers: { 'last-event-id': `${turnId}:2` } });
      expectIds(rest.events, turnId, 3);
      expect(deltasOf(first.events) + deltasOf(rest.events)).toBe(REPLY);

      const whole = await turnEvents(t.baseUrl, sessionId, turnId);
      expect(whole.status).toBe(200);
      expect(whole.events[0]).toEqual({ id: `${turnId}:1`, event: 'turn', data: { turn_id: turnId, session_id: sessionId } });
      expectIds(whole.events, turnId, 1);
      expect(deltasOf(whole.events)).toBe(REPLY);
      expect(whole.events.at(-1)!.data).toEqual(rest.events.at(-1)!.data);

      const after = await turnEvents(t.baseUrl, sessionId, turnId, { lastEventId: `${turnId}:3` });
      expectIds(after.events, turnId, 4);

      // A client that has the last event already (an EventSource reconnects when a stream closes): 204, nothing more.
      const last = whole.events.at(-1)!.id!;
      const again = await streamMessage(t.baseUrl, sessionId, 'again', { headers: { 'last-event-id': last } });
      expect([again.status, again.events]).toEqual([204, []]);
      const reattached = await turnEvents(t.baseUrl, sessionId, turnId, { lastEventId: last });
      expect([reattached.status, reattached.events]).toEqual([204, []]);

      expect(t.emulator.generateRequests()).toHaveLength(1);
      expect(await historyRows(t, sessionId)).toHaveLength(2);
      expect(await ledgerLines(t, sessionId)).toBe(1);
    },
    TIMEOUT_MS,
  );

  it(
    'is 410 TURN_NOT_RESUMABLE, as JSON and starting nothing, for a turn unknown, of another session, or past its retention',
    async () => {
      const sessionId = await createSession(t);
      const otherId = await createSession(t);
      t.emulator.enqueue({ text: 'short' });
      const done = await streamMessage(t.baseUrl, sessionId, 'hi');
      const turnId = done.events[0].data.turn_id;
      t.emulator.reset();

      const refused = async (result: SseResult) => {
        expect(result.status).toBe(410);
        expect(result.headers['content-type']).toMatch(/application\/json/);
        expect(JSON.parse(result.body)).toMatchObject({ statusCode: 410, code: 'TURN_NOT_RESUMABLE' });
      };
      await refused(await streamMessage(t.baseUrl, sessionId, 'hi', { headers: { 'last-event-id': `${randomUUID()}:3` } }));
      await refused(await streamMessage(t.baseUrl, sessionId, 'hi', { headers: { 'last-event-id': 'not an id' } }));
      await refused(await streamMessage(t.baseUrl, otherId, 'hi', { headers: { 'last-event-id': `${turnId}:1` } }));
      await refused(await turnEvents(t.baseUrl, otherId, turnId));
      await refused(await turnEvents(t.baseUrl, sessionId, randomUUID()));
      // Resumable until its events are past the retention, then gone.
      expect((await turnEvents(t.baseUrl, sessionId, turnId)).status).toBe(200);
      await t.query('UPDATE turn_streams SET ended_at = ? WHERE turn_id = ?', ['2000-01-01T00:00:00.000Z', turnId]);
      await refused(await streamMessage(t.baseUrl, sessionId, 'hi', { headers: { 'last-event-id': `${turnId}:2` } }));
      await refused(await turnEvents(t.baseUrl, sessionId, turnId));

      expect(t.emulator.generateRequests()).toHaveLength(0);
      expect(await historyRows(t, sessionId)).toHaveLength(2);
      expect(await historyRows(t, otherId)).toHaveLength(0);
    },
    TIMEOUT_MS,
  );

  it(
    'cancels a running turn: 202, the upstream call aborted, what was written stored as CANCELLED and priced from the last usage',
    async () => {
      const sessionId = await createSession(t);
      t.emulator.enqueue({ ...SLOW, usage: { promptTokenCount: 30 } });
      const { streamed, cancel } = await streamAndCancel(t, sessionId, 'stop me');
      const turnId = streamed.events[0].data.turn_id;
      const accepted = await cancel;
      expect(accepted.status).toBe(202);
      expect(accepted.body).toEqual({ turn_id: turnId, status: 'cancelling' });

      const names = streamed.events.map((e) => e.event);
      expect(names[0]).toBe('turn');
      expect(names.at(-1)).toBe('done');
      const written = deltasOf(streamed.events);
      expect(written.length).toBeLessThan(REPLY.length);
      const model = streamed.events.at(-1)!.data.model_message;
      expect(model).toMatchObject({ content: written, finish_reason: 'CANCELLED', cost_status: 'priced' });
      expect(model.usage.prompt_tokens).toBe(30);

      await waitFor('the emulator to see the client go', () => t.emulator.generateRequests()[0]?.clientGone, { timeoutMs: 10_000 });
      const rows = await historyRows(t, sessionId);
      expect(rows.map((r) => [r.content, r.finish_reason])).toEqual([
        ['stop me', null],
        [written, 'CANCELLED'],
      ]);
      const [line] = await t.query('SELECT cost_nano_usd, cost_status, turn_id FROM spend_ledger WHERE session_id = ?', [sessionId]);
      expect(line).toMatchObject({ cost_status: 'priced', turn_id: turnId });
      expect(Number(line.cost_nano_usd)).toBe(Number(rows[1].cost_nano_usd));
      expect(Number(line.cost_nano_usd)).toBeGreaterThan(0);

      const again = await request(t.baseUrl).post(`/sessions/${sessionId}/turns/${turnId}/cancel`).send().expect(409);
      expect(again.body.code).toBe('TURN_FINISHED');
      const unknown = await request(t.baseUrl).post(`/sessions/${sessionId}/turns/${randomUUID()}/cancel`).send().expect(404);
      expect(unknown.body.code).toBe('TURN_NOT_FOUND');
    },
    TIMEOUT_MS,
  );

  it(
    'records an estimated spend for a turn cancelled before Gemini reported any usage',
    async () => {
      const sessionId = await createSession(t);
      t.emulator.enqueue({ ...SLOW, usageOnEveryChunk: false });
      const { streamed, cancel } = await streamAndCancel(t, sessionId, 'stop before usage');
      expect((await cancel).status).toBe(202);
      const model = streamed.events.at(-1)!.data.model_message;
      expect(model).toMatchObject({ finish_reason: 'CANCELLED', cost_status: 'estimated' });
      expect(model.usage.prompt_tokens).toBeGreaterThan(0);
      const [line] = await t.query('SELECT cost_status FROM spend_ledger WHERE session_id = ?', [sessionId]);
      expect(line).toEqual({ cost_status: 'estimated' });
    },
    TIMEOUT_MS,
  );

  it(
    'shows the running turn as active_turn_id, null once it is over; a disconnect does not cancel it',
    async () => {
      const sessionId = await createSession(t);
      expect((await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200)).body.active_turn_id).toBeNull();
      t.emulator.enqueue(SLOW);
      const first = await dropped(t, sessionId, 'are you there');
      const turnId = first.events[0].data.turn_id;
      const session = await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200);
      expect(session.body.active_turn_id).toBe(turnId);
      const list = await request(t.baseUrl).get('/sessions').query({ user_id: 'anonymous', limit: 100 }).expect(200);
      expect(list.body.data.find((s: { session_id: string }) => s.session_id === sessionId).active_turn_id).toBe(turnId);

      await waitFor('the turn to be over', async () => (await request(t.baseUrl).get(`/sessions/${sessionId}`)).body.active_turn_id, {
        until: (id) => id === null,
        timeoutMs: 10_000,
      });
      const [, model] = await historyRows(t, sessionId);
      expect(model).toMatchObject({ content: REPLY, finish_reason: 'STOP' });
    },
    TIMEOUT_MS,
  );
});

describe('Streams that survive, with API keys', () => {
  const ADMIN_KEY = 'admin-key-for-the-resume-suite-0123456789';
  let t: TestApp;
  let aliceKey: string;
  let malloryKey: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });
    const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
    for (const user_id of ['alice', 'mallory']) await request(t.baseUrl).post('/users').set(admin).send({ user_id }).expect(201);
    aliceKey = (await request(t.baseUrl).post('/users/alice/api-keys').set(admin).expect(201)).body.key;
    malloryKey = (await request(t.baseUrl).post('/users/mallory/api-keys').set(admin).expect(201)).body.key;
  }, TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  }, TIMEOUT_MS);

  it(
    "answers another user's turn 404, as a missing session: resume, re-attach and cancel alike",
    async () => {
      const alice = { authorization: `Bearer ${aliceKey}` };
      const mallory = { authorization: `Bearer ${malloryKey}` };
      const sessionId = (await request(t.baseUrl).post('/sessions').set(alice).send({}).expect(201)).body.session_id;
      t.emulator.enqueue({ text: 'private' });
      const own = await streamMessage(t.baseUrl, sessionId, 'secret', { headers: alice });
      const turnId = own.events[0].data.turn_id;
      expect((await turnEvents(t.baseUrl, sessionId, turnId, { headers: alice })).status).toBe(200);

      const resumed = await streamMessage(t.baseUrl, sessionId, 'secret', { headers: { ...mallory, 'last-event-id': `${turnId}:1` } });
      expect(resumed.status).toBe(404);
      expect(JSON.parse(resumed.body).code).toBe('SESSION_NOT_FOUND');
      const attached = await turnEvents(t.baseUrl, sessionId, turnId, { headers: mallory });
      expect(attached.status).toBe(404);
      const cancelled = await request(t.baseUrl).post(`/sessions/${sessionId}/turns/${turnId}/cancel`).set(mallory).send();
      expect(cancelled.status).toBe(404);
      expect(cancelled.body.code).toBe('SESSION_NOT_FOUND');
      expect(t.emulator.generateRequests()).toHaveLength(1);
    },
    TIMEOUT_MS,
  );
});
