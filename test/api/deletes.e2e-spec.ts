import request from 'supertest';
import { createSession, errorBody, send } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/** API.md: a delete wins. Nothing a turn in flight stores brings back what was deleted, and nothing remembered keeps its content. */
describe('A delete wins', () => {
  const t = useTestApp({ env: { RATE_LIMIT_PER_MINUTE: '1000' } });

  /** Starts a request that reaches Gemini and is held there ~1.5 s; resolves once Gemini has it, with its answer to come. */
  async function heldAtGemini(start: () => request.Test): Promise<{ answer: Promise<request.Response> }> {
    t.emulator.enqueue({ text: 'answered after the delete', delayMs: 1_500 });
    const calls = t.emulator.generateRequests().length;
    const answer = start().then((response) => response);
    await waitFor('the call to Gemini', () => t.emulator.generateRequests().length > calls);
    return { answer };
  }

  async function traces(userId: string) {
    const [row] = await t.query(
      `SELECT (SELECT COUNT(*) FROM users WHERE user_id = ?) AS users,
              (SELECT COUNT(*) FROM chat_sessions WHERE user_id = ?) AS sessions,
              (SELECT COUNT(*) FROM chat_history h JOIN chat_sessions s ON s.chat_id = h.chat_id WHERE s.user_id = ?) AS messages,
              (SELECT COUNT(*) FROM idempotency_records WHERE response_body LIKE '%answered after the delete%' OR response_body LIKE '%secret%') AS remembered,
              (SELECT COUNT(*) FROM spend_ledger WHERE user_id = ?) AS spend_lines`,
      [userId, userId, userId, userId],
    );
    return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)]));
  }

  it("does not bring back a user deleted while their new chat's first turn was at Gemini", async () => {
    const userId = 'gone-mid-chat';
    await request(t.baseUrl).post('/users').send({ user_id: userId }).expect(201);
    const turn = await heldAtGemini(() =>
      request(t.baseUrl).post('/chat').set('Idempotency-Key', 'first').send({ user_id: userId, message: 'hello' }),
    );
    await request(t.baseUrl).delete(`/users/${userId}`).expect(204);

    const response = await turn.answer;
    expect(response.status).toBe(404);
    expect(response.body).toEqual(errorBody(404, 'USER_NOT_FOUND'));
    await request(t.baseUrl).get(`/users/${userId}`).expect(404);
    expect(await traces(userId)).toEqual({ users: 0, sessions: 0, messages: 0, remembered: 0, spend_lines: 1 });
  });

  it('does not bring back a user deleted while a turn of one of their sessions was at Gemini', async () => {
    const userId = 'gone-mid-turn';
    const sessionId = await createSession(t, { user_id: userId });
    const turn = await heldAtGemini(() => send(t, sessionId, 'hello'));
    await request(t.baseUrl).delete(`/users/${userId}`).expect(204);

    expect((await turn.answer).status).toBe(404);
    await request(t.baseUrl).get(`/users/${userId}`).expect(404);
    await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(404);
    expect(await traces(userId)).toEqual({ users: 0, sessions: 0, messages: 0, remembered: 0, spend_lines: 1 });
  });

  it('takes the remembered results of a deleted session with it (no reply text left in an idempotency record)', async () => {
    const userId = 'forgetful';
    const sessionId = await createSession(t, { user_id: userId });
    t.emulator.enqueue({ text: 'a secret reply' });
    await request(t.baseUrl)
      .post(`/sessions/${sessionId}/messages`)
      .set('Idempotency-Key', 'remember-me')
      .send({ message: 'secret' })
      .expect(201);
    expect((await traces(userId)).remembered).toBe(1);

    await request(t.baseUrl).delete(`/sessions/${sessionId}`).expect(204);
    expect(await traces(userId)).toMatchObject({ users: 1, sessions: 0, messages: 0, remembered: 0, spend_lines: 1 });
  });

  it('takes the remembered results of a deleted user with them, sessions created with a key included', async () => {
    const userId = 'forgotten';
    await request(t.baseUrl)
      .post('/sessions')
      .set('Idempotency-Key', 'new-session')
      .send({ user_id: userId, title: 'secret plans' })
      .expect(201);
    await request(t.baseUrl).post('/chat').set('Idempotency-Key', 'chat').send({ user_id: userId, message: 'secret' }).expect(200);
    expect((await traces(userId)).remembered).toBe(2);

    await request(t.baseUrl).delete(`/users/${userId}`).expect(204);
    expect(await traces(userId)).toMatchObject({ users: 0, sessions: 0, messages: 0, remembered: 0 });
  });
});
