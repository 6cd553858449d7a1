import request from 'supertest';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const ADMIN_KEY = 'admin-key-for-the-limits-spec-0123456789';
type Auth = { Authorization: string };
const admin: Auth = { Authorization: `Bearer ${ADMIN_KEY}` };

/** A user with a key of their own, and a session made with that key (counted in its turn window). */
async function userWithKey(t: TestApp, userId: string): Promise<{ auth: Auth; sessionId: string }> {
  await request(t.baseUrl).post('/users').set(admin).send({ user_id: userId }).expect(201);
  const { key } = (await request(t.baseUrl).post(`/users/${userId}/api-keys`).set(admin).expect(201)).body;
  const auth = { Authorization: `Bearer ${key}` };
  const sessionId = (await request(t.baseUrl).post('/sessions').set(auth).send({}).expect(201)).body.session_id;
  return { auth, sessionId };
}

const estimate = (t: TestApp, auth: Auth, sessionId: string, message: string) =>
  request(t.baseUrl).post(`/sessions/${sessionId}/estimate`).set(auth).send({ message });

const turn = (t: TestApp, auth: Auth, sessionId: string, message: string) =>
  request(t.baseUrl).post(`/sessions/${sessionId}/messages`).set(auth).send({ message });

/** The countTokens calls Gemini received since the emulator's last reset. */
const countCalls = (t: TestApp) => t.emulator.requests.filter((r) => r.action === 'countTokens').length;

describe('Estimates: a window of their own', () => {
  const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY, ESTIMATES_PER_MINUTE: '3', RATE_LIMIT_PER_MINUTE: '3' } });

  it('admits ESTIMATES_PER_MINUTE estimates per key, then 429 RATE_LIMITED with Retry-After before any countTokens call', async () => {
    const { auth, sessionId } = await userWithKey(t, 'estimator');
    for (let i = 0; i < 3; i++) await estimate(t, auth, sessionId, `draft ${i}`).expect(200);
    const refused = await estimate(t, auth, sessionId, 'one too many').expect(429);

    expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('estimates') });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(countCalls(t)).toBe(3);
    // The window is the key's: the admin key estimating the same session is not refused.
    await estimate(t, admin, sessionId, 'the admin asks').expect(200);
    expect(countCalls(t)).toBe(4);
  });

  it('does not use up the turns of the key, nor do turns use up its estimates', async () => {
    const { auth, sessionId } = await userWithKey(t, 'both-ways');
    for (let i = 0; i < 3; i++) await estimate(t, auth, sessionId, `draft ${i}`).expect(200);
    await estimate(t, auth, sessionId, 'the estimates are spent').expect(429);
    // The window of turns holds the session's creation, and two turns.
    await turn(t, auth, sessionId, 'first turn').expect(201);
    await turn(t, auth, sessionId, 'second turn').expect(201);
    expect((await turn(t, auth, sessionId, 'the turns are spent').expect(429)).body.message).toContain('turns');

    const other = await userWithKey(t, 'turns-first');
    await turn(t, other.auth, other.sessionId, 'first turn').expect(201);
    await turn(t, other.auth, other.sessionId, 'second turn').expect(201);
    await turn(t, other.auth, other.sessionId, 'the turns are spent').expect(429);
    for (let i = 0; i < 3; i++) await estimate(t, other.auth, other.sessionId, `draft ${i}`).expect(200);
    await estimate(t, other.auth, other.sessionId, 'the estimates are spent').expect(429);
  });
});

describe('Estimates: identical ones of an unchanged session', () => {
  const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });

  it('reach countTokens once, and again after a turn or a change of the session', async () => {
    const { auth, sessionId } = await userWithKey(t, 'repeater');
    const first = (await estimate(t, auth, sessionId, 'the same draft').expect(200)).body;
    const again = await Promise.all([1, 2, 3].map(() => estimate(t, auth, sessionId, 'the same draft').expect(200)));
    expect(again.map((response) => response.body)).toEqual([first, first, first]);
    expect(countCalls(t)).toBe(1);

    // Another message is another estimate.
    await estimate(t, auth, sessionId, 'another draft').expect(200);
    expect(countCalls(t)).toBe(2);

    // A turn stored: the same message now goes with the turn before it.
    await turn(t, auth, sessionId, 'a turn in between').expect(201);
    const before = countCalls(t);
    const afterTurn = (await estimate(t, auth, sessionId, 'the same draft').expect(200)).body;
    expect(countCalls(t)).toBe(before + 1);
    expect(afterTurn.messages_in_context).toBe(2);
    expect(afterTurn.prompt_tokens).toBeGreaterThan(first.prompt_tokens);

    // A setting changed: counted again, with the new system instruction.
    await request(t.baseUrl).patch(`/sessions/${sessionId}`).set(auth).send({ system_instruction: 'Be brief.' }).expect(200);
    const afterChange = (await estimate(t, auth, sessionId, 'the same draft').expect(200)).body;
    expect(countCalls(t)).toBe(before + 2);
    expect(afterChange.prompt_tokens).toBeGreaterThan(afterTurn.prompt_tokens);
  });

  it('are answered for the caller who asked: another key counts its own', async () => {
    const { auth, sessionId } = await userWithKey(t, 'two-callers');
    await estimate(t, auth, sessionId, 'shared draft').expect(200);
    await estimate(t, admin, sessionId, 'shared draft').expect(200);
    expect(countCalls(t)).toBe(2);
  });
});

describe('Estimates under a flood from one key', () => {
  // The defaults: RATE_LIMIT_PER_MINUTE 60, so ESTIMATES_PER_MINUTE 240.
  const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });
  const FLOOD = 600;

  it('admits 240 of 600 estimates sent at once, and Gemini gets 240 countTokens calls; one when they are all the same', async () => {
    const { auth, sessionId } = await userWithKey(t, 'flooder');
    const distinct = await Promise.all(Array.from({ length: FLOOD }, (_, i) => estimate(t, auth, sessionId, `draft number ${i}`)));
    const statuses = distinct.map((response) => response.status);
    expect([statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 429).length]).toEqual([240, FLOOD - 240]);
    expect(countCalls(t)).toBe(240);

    const same = await userWithKey(t, 'same-flooder');
    t.emulator.reset();
    const identical = await Promise.all(Array.from({ length: FLOOD / 2 }, () => estimate(t, same.auth, same.sessionId, 'one draft')));
    expect(identical.filter((response) => response.status === 200)).toHaveLength(240);
    expect(countCalls(t)).toBe(1);
  }, 60_000);
});

describe('Session creation: counted against RATE_LIMIT_PER_MINUTE as turns are', () => {
  const t = useTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3' } });

  const createFor = (userId: string, idempotencyKey?: string) => {
    const call = request(t.baseUrl).post('/sessions');
    return (idempotencyKey ? call.set('Idempotency-Key', idempotencyKey) : call).send({
      user_id: userId,
      system_instruction: 'x'.repeat(1_000),
    });
  };
  const sessionsOf = async (userId: string) =>
    Number((await t.query('SELECT COUNT(*) AS n FROM chat_sessions WHERE user_id = ?', [userId]))[0].n);

  it('refuses the (N+1)th session of a caller with 429 RATE_LIMITED and Retry-After, and stores nothing of it', async () => {
    for (let i = 0; i < 3; i++) await createFor('creator').expect(201);
    const refused = await createFor('creator').expect(429);

    expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('new sessions') });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await sessionsOf('creator')).toBe(3);
    // Another caller (open mode: another user) has a window of their own.
    await createFor('someone-else').expect(201);
  });

  it('shares the window with turns, both ways', async () => {
    const sessionId = (await createFor('mixer').expect(201)).body.session_id;
    await request(t.baseUrl).post(`/sessions/${sessionId}/messages`).send({ message: 'first' }).expect(201);
    await request(t.baseUrl).post(`/sessions/${sessionId}/messages`).send({ message: 'second' }).expect(201);
    await createFor('mixer').expect(429);
    await request(t.baseUrl).post(`/sessions/${sessionId}/messages`).send({ message: 'third' }).expect(429);
    expect(await sessionsOf('mixer')).toBe(1);
    expect(t.emulator.generateRequests()).toHaveLength(2);
  });

  it('replays a stored creation of an Idempotency-Key when the window is full, as a turn is replayed', async () => {
    const first = await createFor('replayer', 'create-1').expect(201);
    await createFor('replayer', 'create-2').expect(201);
    await createFor('replayer', 'create-3').expect(201);
    await createFor('replayer', 'create-4').expect(429);

    const replay = await createFor('replayer', 'create-1').expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(await sessionsOf('replayer')).toBe(3);
  });

  it('counts a new chat of POST /chat once: its turn is its creation', async () => {
    for (let i = 0; i < 3; i++)
      await request(t.baseUrl)
        .post('/chat')
        .send({ user_id: 'chatter', message: `chat ${i}` })
        .expect(200);
    await request(t.baseUrl).post('/chat').send({ user_id: 'chatter', message: 'one too many' }).expect(429);
    expect(await sessionsOf('chatter')).toBe(3);
  });
});
