import { DEFAULTS } from '../../src/config/environment.js';
import request from 'supertest';
import { createSession, historyRows } from '../support/http.js';
import { streamMessage } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

const LONG_REPLY = 'The quick brown fox jumps over the lazy dog while the cat watches from the warm windowsill.';
const SERVER_TIMING = /^upstream;dur=\d+(\.\d+)?, total;dur=\d+(\.\d+)?$/;

describe('Streaming a turn (Accept: text/event-stream)', () => {
  const t = useTestApp();

  it('sends deltas, then done with the non-streaming body; the deltas add up to the stored reply', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ text: LONG_REPLY, usage: { promptTokenCount: 12, candidatesTokenCount: 20, thoughtsTokenCount: 8 } });
    const result = await streamMessage(t.baseUrl, sessionId, 'tell me a story');

    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(result.headers['x-request-id']).toBeTruthy();
    const names = result.events.map((e) => e.event);
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(result.body.startsWith('retry: ')).toBe(true);
    expect(names[0]).toBe('turn');
    const turnId = result.events[0].data.turn_id;
    expect(result.events[0].data).toEqual({ turn_id: turnId, session_id: sessionId });
    expect(names.slice(1, -1).every((name) => name === 'delta')).toBe(true);
    expect(names.at(-1)).toBe('done');
    expect(result.events.map((e) => e.id)).toEqual(result.events.map((_, i) => `${turnId}:${i + 1}`));

    const streamed = result.events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.text)
      .join('');
    expect(streamed).toBe(LONG_REPLY);
    const done = result.events.at(-1)!.data;
    expect(Object.keys(done).sort()).toEqual(['model_message', 'reply', 'session_id', 'session_total_cost_usd', 'user_message']);
    expect(done.reply).toBe(LONG_REPLY);
    // 12 × 0.30 + (20 + 8) × 2.50 per million
    expect(done.model_message).toMatchObject({ content: LONG_REPLY, cost_usd: 0.0000736, usage: { total_tokens: 40 } });
    expect(result.trailers['server-timing']).toMatch(SERVER_TIMING);

    const rows = await historyRows(t, sessionId);
    expect(rows.map((r) => [r.role, r.content])).toEqual([
      ['user', 'tell me a story'],
      ['model', LONG_REPLY],
    ]);
    expect(t.emulator.generateRequests()[0].action).toBe('streamGenerateContent');
  });

  it.each([
    ['every chunk carries the running total', true],
    ['only the last chunk carries usage', false],
  ])('takes usage from the last chunk that has it, never a sum (%s)', async (_name, usageOnEveryChunk) => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({
      text: LONG_REPLY,
      usageOnEveryChunk,
      usage: { promptTokenCount: 100, cachedContentTokenCount: 40, candidatesTokenCount: 30, thoughtsTokenCount: 10 },
    });
    const result = await streamMessage(t.baseUrl, sessionId, 'count me');
    expect(result.events.filter((e) => e.event === 'delta').length).toBeGreaterThan(1);
    const [, model] = await historyRows(t, sessionId);
    expect(model).toMatchObject({ prompt_tokens: 100, cached_tokens: 40, output_tokens: 30, thoughts_tokens: 10, total_tokens: 140 });
    // 60 × 300 + 40 × 30 + 40 × 2500 nano-dollars: one call, billed once.
    expect(model.cost_nano_usd).toBe(119_200);
  });

  it('completes and stores the turn with its cost when the client hangs up after the first delta', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ text: LONG_REPLY, chunkDelayMs: 150 });
    const result = await streamMessage(t.baseUrl, sessionId, 'do not lose this', { disconnectAfterDeltas: 1 });
    expect(result.events.map((e) => e.event)).toEqual(['turn', 'delta']);

    const rows = await waitFor('the turn to be stored in the background', () => historyRows(t, sessionId), {
      until: (r) => r.length === 2,
    });
    expect(rows.map((r) => r.content)).toEqual(['do not lose this', LONG_REPLY]);
    expect(rows[1].cost_nano_usd).toBeGreaterThan(0);
  });

  it.each([
    ['an error event from Gemini', { streamErrorAfterChunks: 1, status: 500 }],
    ['a connection that breaks', { breakAfterChunks: 1 }],
  ])('ends with an error event saying what was spent, and stores no message, after %s mid-stream', async (_name, reply) => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ text: LONG_REPLY, ...reply });
    const result = await streamMessage(t.baseUrl, sessionId, 'this will fail');
    expect(result.status).toBe(200);
    const names = result.events.map((e) => e.event);
    expect(names.slice(0, 2)).toEqual(['turn', 'delta']);
    expect(names.at(-1)).toBe('error');
    expect(names).not.toContain('done');
    // The chunks before the failure carried usage: Gemini billed them, and the ledger has them.
    expect(result.events.at(-1)!.data).toEqual({
      statusCode: 502,
      error: 'Bad Gateway',
      code: 'UPSTREAM_ERROR',
      message: expect.any(String),
      usage: expect.objectContaining({ prompt_tokens: expect.any(Number) }),
      cost_usd: expect.any(Number),
      cost_status: 'estimated',
      priced_as: DEFAULTS.GEMINI_MODEL,
    });
    expect(await historyRows(t, sessionId)).toEqual([]);
    const lines = await t.query('SELECT cost_status FROM spend_ledger WHERE session_id = ?', [sessionId]);
    expect(lines).toEqual([{ cost_status: 'estimated' }]);
  });

  it('answers an upstream failure before any text, once the turn was admitted, as its turn event and an error event', async () => {
    const sessionId = await createSession(t);
    // One try and GEMINI_RETRIES (2) retries, all refused.
    t.emulator.enqueue({ status: 429 }, { status: 429 }, { status: 429 });
    const result = await streamMessage(t.baseUrl, sessionId, 'too fast');
    expect(t.emulator.generateRequests()).toHaveLength(3);
    expect(result.status).toBe(200);
    expect(result.events.map((e) => e.event)).toEqual(['turn', 'error']);
    expect(result.events[1].data).toMatchObject({ statusCode: 503, code: 'UPSTREAM_RATE_LIMITED' });
    expect(await historyRows(t, sessionId)).toEqual([]);
  });

  it('answers a turn refused before Gemini is called (rate limit, budget) with its real status and a JSON body', async () => {
    const sessionId = await createSession(t, { user_id: 'broke' });
    await request(t.baseUrl).patch('/users/broke').send({ daily_budget_usd: 0 }).expect(200);
    const result = await streamMessage(t.baseUrl, sessionId, 'no money');
    expect(result.status).toBe(429);
    expect(result.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(t.emulator.generateRequests()).toHaveLength(0);
  });

  it('validates before streaming: 400 JSON for an empty message, 404 for an unknown session', async () => {
    const sessionId = await createSession(t);
    const empty = await streamMessage(t.baseUrl, sessionId, '');
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body).code).toBe('VALIDATION_FAILED');
    const unknown = await streamMessage(t.baseUrl, '4b0e5c3e-8a7d-4c1e-9f57-1f2d3c4b5a69', 'hi');
    expect(unknown.status).toBe(404);
    expect(t.emulator.generateRequests()).toHaveLength(0);
  });

  it('leaves the non-streaming answer unchanged, with Server-Timing and X-Request-Id', async () => {
    const sessionId = await createSession(t);
    const response = await request(t.baseUrl).post(`/sessions/${sessionId}/messages`).send({ message: 'plain' }).expect(201);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.headers['server-timing']).toMatch(SERVER_TIMING);
    expect(response.headers['x-request-id']).toBeTruthy();
    expect(t.emulator.generateRequests()[0].action).toBe('generateContent');
    const chat = await request(t.baseUrl).post('/chat').send({ user_id: 'timing', message: 'plain' }).expect(200);
    expect(chat.headers['server-timing']).toMatch(SERVER_TIMING);
  });
});
