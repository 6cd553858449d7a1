import request from 'supertest';
import { createSession, historyRows, send } from '../support/http.js';
import { startTestApp, useTestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

describe('Idempotency-Key', () => {
  const t = useTestApp();

  const post = (path: string, key: string | null, body: object) => {
    const call = request(t.baseUrl).post(path);
    return (key === null ? call : call.set('Idempotency-Key', key)).send(body);
  };

  it('replays the first answer of a turn without reaching Gemini again', async () => {
    const sessionId = await createSession(t);
    const first = await post(`/sessions/${sessionId}/messages`, 'turn-1', { message: 'pay once' }).expect(201);
    const again = await post(`/sessions/${sessionId}/messages`, 'turn-1', { message: 'pay once' }).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body).toEqual(first.body);
    expect(t.emulator.generateRequests()).toHaveLength(1);
    expect(await historyRows(t, sessionId)).toHaveLength(2);
  });

  it.each([
    ['POST /chat', '/chat', { user_id: 'idem-chat', message: 'hello' }, 200],
    ['POST /sessions', '/sessions', { user_id: 'idem-sessions' }, 201],
  ])('replays %s', async (_name, path, body, status) => {
    const first = await post(path, `key-${path}`, body).expect(status);
    const again = await post(path, `key-${path}`, body).expect(status);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const [row] = await t.query('SELECT COUNT(*) AS n FROM chat_sessions WHERE user_id = ?', [body.user_id]);
    expect(Number(row.n)).toBe(1);
  });

  it('refuses the same key with another body: 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const sessionId = await createSession(t);
    await post(`/sessions/${sessionId}/messages`, 'reused', { message: 'first body' }).expect(201);
    const response = await post(`/sessions/${sessionId}/messages`, 'reused', { message: 'second body' }).expect(422);
    expect(response.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  it('answers 409 while the first request still runs, and two racing duplicates reach Gemini once', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ delayMs: 400, text: 'slow answer' });
    const running = post(`/sessions/${sessionId}/messages`, 'race', { message: 'once' }).then((response) => response);
    // The duplicate goes once the first is at Gemini, where it stays 400 ms.
    await waitFor('the first request to reach Gemini', () => t.emulator.generateRequests().length === 1);
    const [a, b] = await Promise.all([running, post(`/sessions/${sessionId}/messages`, 'race', { message: 'once' })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const conflict = a.status === 409 ? a : b;
    expect(conflict.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(Number(conflict.headers['retry-after'])).toBeGreaterThan(0);
    expect(t.emulator.generateRequests()).toHaveLength(1);
    expect(await historyRows(t, sessionId)).toHaveLength(2);
    // Afterwards the same request replays.
    const replay = await post(`/sessions/${sessionId}/messages`, 'race', { message: 'once' }).expect(201);
    expect(replay.body.reply).toBe('slow answer');
  });

  it('lets ten simultaneous duplicates reach Gemini exactly once', async () => {
    const sessionId = await createSession(t);
    t.emulator.setDefaultReply({ delayMs: 100 });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => post(`/sessions/${sessionId}/messages`, 'stampede', { message: 'one call' })),
    );
    // One runs; the others find it running (409) or, arriving after it finished, replay it.
    const ran = responses.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
    const others = responses.filter((r) => !ran.includes(r));
    expect(ran).toHaveLength(1);
    expect(others.every((r) => r.status === 409 || (r.status === 201 && r.body.reply === ran[0].body.reply))).toBe(true);
    expect(t.emulator.generateRequests()).toHaveLength(1);
    expect(await historyRows(t, sessionId)).toHaveLength(2);
  });

  it('forgets a first attempt that failed upstream, so the retry runs', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ status: 500 });
    await post(`/sessions/${sessionId}/messages`, 'flaky', { message: 'try again' }).expect(502);
    const retry = await post(`/sessions/${sessionId}/messages`, 'flaky', { message: 'try again' }).expect(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(t.emulator.generateRequests()).toHaveLength(2);
    expect(await historyRows(t, sessionId)).toHaveLength(2);
  });

  it('remembers a client error and replays it', async () => {
    const missing = '4b0e5c3e-8a7d-4c1e-9f57-1f2d3c4b5a69';
    const chat = { user_id: 'idem-404', message: 'hi', chat_id: missing };
    const first = await post('/chat', 'missing-chat', chat).expect(404);
    const again = await post('/chat', 'missing-chat', chat).expect(404);
    expect(again.body).toEqual(first.body);
  });

  it('replays a streamed turn as its JSON answer', async () => {
    const sessionId = await createSession(t);
    const streamed = await request(t.baseUrl)
      .post(`/sessions/${sessionId}/messages`)
      .set('Accept', 'text/event-stream')
      .set('Idempotency-Key', 'streamed')
      .send({ message: 'stream once' })
      .expect(200);
    expect(streamed.text).toContain('event: done');
    const replay = await request(t.baseUrl)
      .post(`/sessions/${sessionId}/messages`)
      .set('Accept', 'text/event-stream')
      .set('Idempotency-Key', 'streamed')
      .send({ message: 'stream once' })
      .expect(201);
    expect(replay.body.user_message.content).toBe('stream once');
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  it('refuses a malformed key with 400', async () => {
    const sessionId = await createSession(t);
    await post(`/sessions/${sessionId}/messages`, 'x'.repeat(256), { message: 'hi' }).expect(400);
    await post(`/sessions/${sessionId}/messages`, 'has space', { message: 'hi' }).expect(400);
    expect(t.emulator.generateRequests()).toHaveLength(0);
  });

  it('keeps records 24 h and lets an expired key run again', async () => {
    const sessionId = await createSession(t);
    await post(`/sessions/${sessionId}/messages`, 'old', { message: 'yesterday' }).expect(201);
    const dayAgo = new Date(Date.now() - 24 * 3600_000 - 1000).toISOString();
    await t.query("UPDATE idempotency_records SET created_at = ? WHERE idempotency_key = 'old'", [dayAgo]);
    const again = await post(`/sessions/${sessionId}/messages`, 'old', { message: 'yesterday' }).expect(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(t.emulator.generateRequests()).toHaveLength(2);
  });
});

describe('Idempotency-Key scope', () => {
  it("is scoped to the caller: two users' keys never collide", async () => {
    const admin = 'admin-key-for-the-scope-test-0123456789';
    const t = await startTestApp({ env: { ADMIN_API_KEY: admin } });
    try {
      const auth = { Authorization: `Bearer ${admin}` };
      const keys: string[] = [];
      for (const user of ['ann', 'ben']) {
        await request(t.baseUrl).post('/users').set(auth).send({ user_id: user }).expect(201);
        keys.push((await request(t.baseUrl).post(`/users/${user}/api-keys`).set(auth).expect(201)).body.key);
      }
      const [ann, ben] = await Promise.all(
        keys.map((key) =>
          request(t.baseUrl).post('/sessions').set('Authorization', `Bearer ${key}`).set('Idempotency-Key', 'same').send({}).expect(201),
        ),
      );
      expect(ann.body.user_id).toBe('ann');
      expect(ben.body.user_id).toBe('ben');
      expect(ben.headers['idempotent-replayed']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('One turn at a time per session', () => {
  const t = useTestApp({ env: { RATE_LIMIT_PER_MINUTE: '1000' } });

  it('runs 50 concurrent sends to one session in order, each seeing the turns before it', async () => {
    const sessionId = await createSession(t);
    t.emulator.setDefaultReply({ delayMs: 2 });
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => send(t, sessionId, `message ${i}`)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    const sizes = t.emulator.generateRequests().map((r) => (r.body.contents as unknown[]).length);
    expect(sizes).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1));
    const rows = await historyRows(t, sessionId);
    expect(rows).toHaveLength(100);
    const ids = rows.map((r) => Number(r.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
    expect(rows.map((r) => r.role)).toEqual(Array(50).fill(['user', 'model']).flat());
    // Each reply quotes its own message: no turn saw another's message as its last one.
    for (let i = 0; i < 100; i += 2) expect(String(rows[i + 1].content)).toContain(String(rows[i].content));
    t.emulator.reset();
  });

  it('runs different sessions in parallel', async () => {
    const [a, b] = [await createSession(t), await createSession(t)];
    t.emulator.setDefaultReply({ delayMs: 300 });
    const started = Date.now();
    const responses = await Promise.all([send(t, a, 'a1'), send(t, b, 'b1'), send(t, a, 'a2'), send(t, b, 'b2')]);
    const elapsed = Date.now() - started;
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    // Two sessions × two turns of 300 ms: about 600 ms in parallel, 1200 ms one after the other.
    expect(elapsed).toBeLessThan(1_100);
    expect((await historyRows(t, a)).map((r) => r.content).filter((_, i) => i % 2 === 0)).toEqual(['a1', 'a2']);
    expect((await historyRows(t, b)).map((r) => r.content).filter((_, i) => i % 2 === 0)).toEqual(['b1', 'b2']);
    t.emulator.reset();
  });
});

describe('Rate limit', () => {
  it('allows RATE_LIMIT_PER_MINUTE turns per caller, then 429 with Retry-After, whatever X-Forwarded-For says', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '4' } });
    try {
      // The session's creation is the first of the four.
      const sessionId = await createSession(t, { user_id: 'limited' });
      for (let i = 0; i < 3; i++) {
        await request(t.baseUrl)
          .post(`/sessions/${sessionId}/messages`)
          .set('X-Forwarded-For', `10.0.0.${i}`)
          .send({ message: `m${i}` })
          .expect(201);
      }
      const refused = await request(t.baseUrl)
        .post(`/sessions/${sessionId}/messages`)
        .set('X-Forwarded-For', '10.9.9.9')
        .send({ message: 'one too many' })
        .expect(429);
      expect(refused.body.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(t.emulator.generateRequests()).toHaveLength(3);
      expect(await historyRows(t, sessionId)).toHaveLength(6);
      // Another user (open mode: the caller is the user) is not affected.
      await request(t.baseUrl).post('/chat').send({ user_id: 'someone-else', message: 'hi' }).expect(200);
      // Reading is not a turn.
      await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200);
    } finally {
      await t.close();
    }
  });
});

describe('Daily budget', () => {
  const t = useTestApp({ env: { USER_DAILY_BUDGET_USD: '0.000001', RATE_LIMIT_PER_MINUTE: '1000' } });

  it('refuses a user whose spend today reached the limit before any upstream call', async () => {
    const sessionId = await createSession(t, { user_id: 'thrifty' });
    await send(t, sessionId, 'first is admitted').expect(201);
    const refused = await send(t, sessionId, 'second is over').expect(429);
    expect(refused.body.code).toBe('BUDGET_EXCEEDED');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(t.emulator.generateRequests()).toHaveLength(1);
    expect(await historyRows(t, sessionId)).toHaveLength(2);
  });

  it("uses the user's own limit over the default (PATCH /users/:id)", async () => {
    const sessionId = await createSession(t, { user_id: 'generous' });
    await request(t.baseUrl).patch('/users/generous').send({ daily_budget_usd: 1 }).expect(200);
    for (let i = 0; i < 3; i++) await send(t, sessionId, `turn ${i}`).expect(201);
    const user = (await request(t.baseUrl).get('/users/generous').expect(200)).body;
    expect(user.daily_budget_usd).toBe(1);
    await request(t.baseUrl).patch('/users/generous').send({ daily_budget_usd: -1 }).expect(400);
  });

  it("holds a new /chat to its existing owner's own limit, read with the owner", async () => {
    await request(t.baseUrl).post('/users').send({ user_id: 'frugal' }).expect(201);
    await request(t.baseUrl).patch('/users/frugal').send({ daily_budget_usd: 1e-9 }).expect(200);
    await request(t.baseUrl).post('/chat').send({ user_id: 'frugal', message: 'first is admitted' }).expect(200);

    const refused = await request(t.baseUrl).post('/chat').send({ user_id: 'frugal', message: 'a new chat, over' }).expect(429);

    expect(refused.body.code).toBe('BUDGET_EXCEEDED');
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  it('lets 20 concurrent turns overshoot a nearly spent budget by less than one turn', async () => {
    // A small output cap makes the worst case of a turn close to its real cost:
    // worst = 5 prompt chars × 300 n$ + 100 output × 2500 n$ = 251,500 n$; real = 2 × 300 + 100 × 2500 = 250,600 n$.
    const small = await startTestApp({ env: { GEMINI_MAX_OUTPUT_TOKENS: '100', RATE_LIMIT_PER_MINUTE: '1000' } });
    try {
      const userId = 'racer';
      const budget = 1_000_000;
      await request(small.baseUrl).post('/users').send({ user_id: userId }).expect(201);
      await request(small.baseUrl)
        .patch(`/users/${userId}`)
        .send({ daily_budget_usd: budget / 1e9 })
        .expect(200);
      const sessions = await Promise.all(Array.from({ length: 20 }, () => createSession(small, { user_id: userId })));
      small.emulator.setDefaultReply({ delayMs: 80, usage: { promptTokenCount: 2, candidatesTokenCount: 100, thoughtsTokenCount: 0 } });
      const responses = await Promise.all(sessions.map((id) => send(small, id, 'spend')));
      const admitted = responses.filter((r) => r.status === 201).length;
      const refused = responses.filter((r) => r.status === 429);
      expect(admitted + refused.length).toBe(20);
      expect(refused.every((r) => r.body.code === 'BUDGET_EXCEEDED')).toBe(true);
      expect(small.emulator.generateRequests()).toHaveLength(admitted);
      const [row] = await small.query(
        `SELECT COALESCE(SUM(h.cost_nano_usd), 0) AS spent FROM chat_history h JOIN chat_sessions s ON s.chat_id = h.chat_id WHERE s.user_id = ?`,
        [userId],
      );
      const spent = Number(row.spent);
      expect(spent).toBe(admitted * 250_600);
      // Four fit under the limit; the turn admitted last may cross it, by less than its own cost.
      expect(admitted).toBeGreaterThanOrEqual(4);
      expect(spent).toBeLessThan(budget + 251_500);
      // Once over, everyone is refused.
      await send(small, sessions[0], 'more').expect(429);
    } finally {
      await small.close();
    }
  });
});
