import request from 'supertest';
import { DEFAULTS } from '../../src/config/environment.js';
import { createSession, errorBody, send } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

// The default model (gemini-3.5-flash-lite): 10 prompt tokens × 300 + 4 output tokens × 2,500 nano-dollars = 13,000 nano-dollars a turn.
const TURN_USAGE = { promptTokenCount: 10, candidatesTokenCount: 4, thoughtsTokenCount: 0 };
const TURN_NANO = 13_000;
// 50 micro-dollars: four turns fit (the fourth starts at 39,000), the fifth is refused.
const BUDGET_USD = '0.00005';

async function usage(t: TestApp, userId: string, auth?: string) {
  const call = request(t.baseUrl).get(`/users/${userId}/usage`);
  if (auth) call.set('Authorization', `Bearer ${auth}`);
  return (await call.expect(200)).body;
}

async function ledger(t: TestApp, userId: string) {
  return t.query('SELECT session_id, model, total_tokens, cost_nano_usd, cost_status FROM spend_ledger WHERE user_id = ? ORDER BY id', [
    userId,
  ]);
}

/** What a turn spent is a billing fact: deleting content never erases it (API.md "Money is never erased"). */
describe('Money is never erased', () => {
  const t = useTestApp({ env: { USER_DAILY_BUDGET_USD: BUDGET_USD, RATE_LIMIT_PER_MINUTE: '1000' } });

  beforeEach(() => t.emulator.setDefaultReply({ text: 'ok', usage: TURN_USAGE }));

  it('deleting each session after its turn does not reset the daily budget', async () => {
    const userId = 'eraser';
    const statuses: number[] = [];
    for (let turn = 0; turn < 8; turn++) {
      const sessionId = await createSession(t, { user_id: userId });
      const response = await send(t, sessionId, `turn ${turn}`);
      statuses.push(response.status);
      if (response.status === 429) expect(response.body).toEqual(errorBody(429, 'BUDGET_EXCEEDED'));
      await request(t.baseUrl).delete(`/sessions/${sessionId}`).expect(204);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429, 429, 429, 429]);
    expect(t.emulator.generateRequests()).toHaveLength(4);
    const report = await usage(t, userId);
    expect(report).toMatchObject({ turns: 4, total_cost_usd: (4 * TURN_NANO) / 1e9, total_tokens: 4 * 14 });
    expect(await ledger(t, userId)).toHaveLength(4);
  });

  it('deleting the user does not reset it either, and the usage report keeps every turn', async () => {
    const userId = 'leaver';
    for (let turn = 0; turn < 4; turn++) {
      await request(t.baseUrl)
        .post('/chat')
        .send({ user_id: userId, message: `turn ${turn}` })
        .expect(200);
    }
    const before = await usage(t, userId);
    await request(t.baseUrl).delete(`/users/${userId}`).expect(204);
    await request(t.baseUrl).get(`/users/${userId}`).expect(404);
    expect(await usage(t, userId)).toEqual(before);
    expect(before).toMatchObject({ turns: 4, total_cost_usd: (4 * TURN_NANO) / 1e9 });

    // The same user_id comes back (POST /chat creates unknown users): today's spend is still theirs.
    const refused = await request(t.baseUrl).post('/chat').send({ user_id: userId, message: 'again' }).expect(429);
    expect(refused.body.code).toBe('BUDGET_EXCEEDED');
    expect(t.emulator.generateRequests()).toHaveLength(4);
  });

  it('removes the content of a deleted session from every route and keeps its spend lines', async () => {
    const userId = 'tidy';
    const sessionId = await createSession(t, { user_id: userId, title: 'secret plans', system_instruction: 'be secret' });
    await send(t, sessionId, 'my secret').expect(201);
    const chatId = (await request(t.baseUrl).post('/chat').send({ user_id: userId, message: 'other secret' }).expect(200)).body.chat_id;
    await request(t.baseUrl).delete(`/sessions/${sessionId}`).expect(204);
    await request(t.baseUrl).delete(`/sessions/${chatId}`).expect(204);

    for (const path of ['', '/history', '/messages', '/export', '/export?format=markdown']) {
      await request(t.baseUrl).get(`/sessions/${sessionId}${path}`).expect(404);
    }
    await send(t, sessionId, 'still there?').expect(404);
    await request(t.baseUrl).get(`/history/${userId}/${chatId}`).expect(404);
    await request(t.baseUrl).get(`/history/${userId}`).expect(200, { chat_sessions: [] });
    expect((await request(t.baseUrl).get(`/sessions?user_id=${userId}`).expect(200)).body.data).toEqual([]);
    const content = await t.query(
      `SELECT (SELECT COUNT(*) FROM chat_history WHERE chat_id IN (?, ?)) AS messages,
              (SELECT COUNT(*) FROM chat_sessions WHERE chat_id IN (?, ?)) AS sessions`,
      [sessionId, chatId, sessionId, chatId],
    );
    expect(content.map((row) => [Number(row.messages), Number(row.sessions)])).toEqual([[0, 0]]);

    // What stays is the billing fact: who, which session, which model, tokens, cost. No text.
    const lines = await ledger(t, userId);
    expect(lines.map((line) => line.session_id)).toEqual([sessionId, chatId]);
    expect(lines.map((line) => [line.model, Number(line.total_tokens), Number(line.cost_nano_usd), line.cost_status])).toEqual([
      [DEFAULTS.GEMINI_MODEL, 14, TURN_NANO, 'priced'],
      [DEFAULTS.GEMINI_MODEL, 14, TURN_NANO, 'priced'],
    ]);
  });

  it('records the spend of a turn whose session was deleted while Gemini answered, and answers 404', async () => {
    const userId = 'racer';
    const sessionId = await createSession(t, { user_id: userId });
    t.emulator.enqueue({ text: 'too late', usage: TURN_USAGE, delayMs: 1_500 });
    const turn = send(t, sessionId, 'are you there?');
    const answered = turn.then((response) => response);
    await waitFor('the call to Gemini', () => t.emulator.generateRequests().length === 1);
    await request(t.baseUrl).delete(`/sessions/${sessionId}`).expect(204);

    const response = await answered;
    expect(response.status).toBe(404);
    expect(response.body).toEqual(errorBody(404, 'SESSION_NOT_FOUND'));
    expect(await t.query('SELECT id FROM chat_history WHERE chat_id = ?', [sessionId])).toEqual([]);
    expect(await ledger(t, userId)).toEqual([expect.objectContaining({ session_id: sessionId, cost_status: 'priced' })]);
    expect((await usage(t, userId)).turns).toBe(1);
  });

  it('is 404 for a user who never existed and never spent', async () => {
    await request(t.baseUrl).get('/users/never-was/usage').expect(404);
  });
});

describe('Money is never erased, with API keys', () => {
  const ADMIN_KEY = 'admin-key-for-the-ledger-spec-0123456789';
  const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });

  it("keeps a deleted user's usage readable by the admin key, and only by it", async () => {
    const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
    await request(t.baseUrl).post('/users').set(admin).send({ user_id: 'gone' }).expect(201);
    const key = (await request(t.baseUrl).post('/users/gone/api-keys').set(admin).expect(201)).body.key;
    const chat = await request(t.baseUrl)
      .post('/chat')
      .set('Authorization', `Bearer ${key}`)
      .send({ user_id: 'gone', message: 'hello' })
      .expect(200);
    await request(t.baseUrl).delete('/users/gone').set('Authorization', `Bearer ${key}`).expect(204);

    await request(t.baseUrl).get('/users/gone/usage').set('Authorization', `Bearer ${key}`).expect(401);
    const report = await usage(t, 'gone', ADMIN_KEY);
    expect(report).toMatchObject({ user_id: 'gone', turns: 1, total_cost_usd: chat.body.cost_usd });
  });
});
