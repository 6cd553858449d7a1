import request from 'supertest';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const ADMIN_KEY = 'admin-key-for-the-e2e-suite-0123456789';
type KeyKind = 'none' | 'wrong' | 'revoked' | 'other' | 'own' | 'admin';
const KINDS: KeyKind[] = ['none', 'wrong', 'revoked', 'other', 'own', 'admin'];

interface Fixture {
  userId: string;
  sessionId: string;
  chatId: string;
  keyId: string;
}

interface RouteCase {
  name: string;
  call: (f: Fixture) => { method: 'get' | 'post' | 'patch' | 'delete'; path: string; body?: object };
  /** Expected status per key kind; missing kinds use the defaults below. */
  expect: Partial<Record<KeyKind, number>> & { own: number; admin: number };
}

const ROUTES: RouteCase[] = [
  { name: 'GET /users/:id', call: (f) => ({ method: 'get', path: `/users/${f.userId}` }), expect: { own: 200, admin: 200 } },
  {
    name: 'PATCH /users/:id (budget)',
    call: (f) => ({ method: 'patch', path: `/users/${f.userId}`, body: { daily_budget_usd: 2 } }),
    expect: { own: 403, admin: 200 },
  },
  {
    name: 'POST /users (own id)',
    call: (f) => ({ method: 'post', path: '/users', body: { user_id: f.userId } }),
    expect: { own: 409, admin: 409 },
  },
  { name: 'DELETE /users/:id', call: (f) => ({ method: 'delete', path: `/users/${f.userId}` }), expect: { own: 204, admin: 204 } },
  {
    name: 'POST /users/:id/api-keys',
    call: (f) => ({ method: 'post', path: `/users/${f.userId}/api-keys` }),
    expect: { own: 403, admin: 201 },
  },
  {
    name: 'DELETE /users/:id/api-keys/:key',
    call: (f) => ({ method: 'delete', path: `/users/${f.userId}/api-keys/${f.keyId}` }),
    expect: { own: 204, admin: 204 },
  },
  { name: 'GET /users/:id/usage', call: (f) => ({ method: 'get', path: `/users/${f.userId}/usage` }), expect: { own: 200, admin: 200 } },
  {
    name: 'POST /sessions',
    call: (f) => ({ method: 'post', path: '/sessions', body: { user_id: f.userId } }),
    expect: { own: 201, admin: 201 },
  },
  {
    name: 'GET /sessions?user_id',
    call: (f) => ({ method: 'get', path: `/sessions?user_id=${f.userId}` }),
    expect: { own: 200, admin: 200 },
  },
  { name: 'GET /sessions/:id', call: (f) => ({ method: 'get', path: `/sessions/${f.sessionId}` }), expect: { own: 200, admin: 200 } },
  {
    name: 'PATCH /sessions/:id',
    call: (f) => ({ method: 'patch', path: `/sessions/${f.sessionId}`, body: { title: 'x' } }),
    expect: { own: 200, admin: 200 },
  },
  { name: 'DELETE /sessions/:id', call: (f) => ({ method: 'delete', path: `/sessions/${f.sessionId}` }), expect: { own: 204, admin: 204 } },
  {
    name: 'GET /sessions/:id/history',
    call: (f) => ({ method: 'get', path: `/sessions/${f.sessionId}/history` }),
    expect: { own: 200, admin: 200 },
  },
  {
    name: 'GET /sessions/:id/messages',
    call: (f) => ({ method: 'get', path: `/sessions/${f.sessionId}/messages` }),
    expect: { own: 200, admin: 200 },
  },
  {
    name: 'GET /sessions/:id/export',
    call: (f) => ({ method: 'get', path: `/sessions/${f.sessionId}/export` }),
    expect: { own: 200, admin: 200 },
  },
  {
    name: 'POST /sessions/:id/messages',
    call: (f) => ({ method: 'post', path: `/sessions/${f.sessionId}/messages`, body: { message: 'hi' } }),
    expect: { own: 201, admin: 201 },
  },
  {
    name: 'POST /chat (existing chat)',
    call: (f) => ({ method: 'post', path: '/chat', body: { user_id: f.userId, message: 'hi', chat_id: f.chatId } }),
    expect: { own: 200, admin: 200 },
  },
  {
    name: 'POST /chat (new chat)',
    call: (f) => ({ method: 'post', path: '/chat', body: { user_id: f.userId, message: 'hi' } }),
    expect: { own: 200, admin: 200 },
  },
  { name: 'GET /history/:user', call: (f) => ({ method: 'get', path: `/history/${f.userId}` }), expect: { own: 200, admin: 200 } },
  {
    name: 'GET /history/:user/:chat',
    call: (f) => ({ method: 'get', path: `/history/${f.userId}/${f.chatId}` }),
    expect: { own: 200, admin: 200 },
  },
  { name: 'GET /models', call: () => ({ method: 'get', path: '/models' }), expect: { other: 200, own: 200, admin: 200 } },
  {
    name: 'GET /health (public)',
    call: () => ({ method: 'get', path: '/health' }),
    expect: { none: 200, wrong: 200, revoked: 200, other: 200, own: 200, admin: 200 },
  },
  {
    name: 'GET /health/ready (public)',
    call: () => ({ method: 'get', path: '/health/ready' }),
    expect: { none: 200, wrong: 200, revoked: 200, other: 200, own: 200, admin: 200 },
  },
  {
    name: 'GET /docs-json (public)',
    call: () => ({ method: 'get', path: '/docs-json' }),
    expect: { none: 200, wrong: 200, revoked: 200, other: 200, own: 200, admin: 200 },
  },
  {
    name: 'GET / (public page)',
    call: () => ({ method: 'get', path: '/' }),
    expect: { none: 200, wrong: 200, revoked: 200, other: 200, own: 200, admin: 200 },
  },
];

const DEFAULTS: Record<KeyKind, number> = { none: 401, wrong: 401, revoked: 401, other: 404, own: 0, admin: 0 };

describe('Access control (ADMIN_API_KEY set)', () => {
  let t: TestApp;
  let otherKey: string;
  let counter = 0;
  const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_PER_MINUTE: '100000' } });
    await request(t.baseUrl).post('/users').set(admin).send({ user_id: 'mallory' }).expect(201);
    otherKey = (await request(t.baseUrl).post('/users/mallory/api-keys').set(admin).expect(201)).body.key;
  });

  afterAll(async () => {
    await t.close();
  });

  /** A fresh user with a session, a chat with one turn, a live key and a revoked one. */
  async function fixture(): Promise<Fixture & { ownKey: string; revokedKey: string }> {
    const userId = `owner-${++counter}`;
    await request(t.baseUrl).post('/users').set(admin).send({ user_id: userId }).expect(201);
    const sessionId = (await request(t.baseUrl).post('/sessions').set(admin).send({ user_id: userId }).expect(201)).body.session_id;
    const chatId = (await request(t.baseUrl).post('/chat').set(admin).send({ user_id: userId, message: 'first' }).expect(200)).body.chat_id;
    const own = (await request(t.baseUrl).post(`/users/${userId}/api-keys`).set(admin).expect(201)).body;
    const revoked = (await request(t.baseUrl).post(`/users/${userId}/api-keys`).set(admin).expect(201)).body;
    await request(t.baseUrl).delete(`/users/${userId}/api-keys/${revoked.key_id}`).set(admin).expect(204);
    // The key the route works on (revoking) is a third one, so the caller's own key stays valid.
    const target = (await request(t.baseUrl).post(`/users/${userId}/api-keys`).set(admin).expect(201)).body;
    return { userId, sessionId, chatId, keyId: target.key_id, ownKey: own.key, revokedKey: revoked.key };
  }

  async function snapshot() {
    const [row] = await t.query(
      `SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM chat_sessions) AS sessions,
              (SELECT COUNT(*) FROM chat_history) AS messages, (SELECT COUNT(*) FROM api_keys) AS keys,
              (SELECT COUNT(*) FROM chat_sessions WHERE title = 'x') AS renamed,
              (SELECT COUNT(*) FROM users WHERE daily_budget_nano_usd IS NOT NULL) AS budgets`,
    );
    return { ...row, upstream: t.emulator.generateRequests().length };
  }

  const cases = ROUTES.flatMap((route) => KINDS.map((kind) => [route.name, kind, route] as const));

  it.each(cases)('%s with %s key', async (_name, kind, route) => {
    const f = await fixture();
    const token = {
      none: null,
      wrong: 'gca_0000000000000000.not-a-real-key-not-a-real-key-not-a-real-k',
      revoked: f.revokedKey,
      other: otherKey,
      own: f.ownKey,
      admin: ADMIN_KEY,
    }[kind];
    const expected = route.expect[kind] ?? DEFAULTS[kind];
    const { method, path, body } = route.call(f);
    const before = await snapshot();

    let call = request(t.baseUrl)[method](path);
    if (token) call = call.set('Authorization', `Bearer ${token}`);
    const response = await (body ? call.send(body) : call);

    expect({ route: route.name, kind, status: response.status }).toEqual({ route: route.name, kind, status: expected });
    if (expected >= 400) {
      expect(response.body).toMatchObject({ statusCode: expected, code: expect.any(String) });
      // A refusal does nothing: no row, no rename, no budget, no call to Gemini.
      expect(await snapshot()).toEqual(before);
      // Nothing of the owner's conversation leaks into a refusal.
      expect(JSON.stringify(response.body)).not.toContain('Echo:');
    }
    if (expected === 401) expect(response.body.code).toBe('UNAUTHORIZED');
  });

  it('refuses a revoked key at once, on its very next request', async () => {
    const f = await fixture();
    await request(t.baseUrl).get(`/users/${f.userId}`).set('Authorization', `Bearer ${f.ownKey}`).expect(200);
    const ownId = (await t.query('SELECT key_id FROM api_keys WHERE user_id = ? ORDER BY created_at LIMIT 1', [f.userId]))[0].key_id;
    await request(t.baseUrl).delete(`/users/${f.userId}/api-keys/${ownId}`).set('Authorization', `Bearer ${f.ownKey}`).expect(204);
    await request(t.baseUrl).get(`/users/${f.userId}`).set('Authorization', `Bearer ${f.ownKey}`).expect(401);
  });

  it('stores keys only as hashes', async () => {
    const f = await fixture();
    const rows = await t.query<{ key_hash: string }>('SELECT * FROM api_keys WHERE user_id = ?', [f.userId]);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(f.ownKey);
    expect(dump).not.toContain(f.ownKey.split('.')[1]);
    expect(rows.every((row: { key_hash: string }) => /^[0-9a-f]{64}$/.test(row.key_hash))).toBe(true);
  });

  it("makes a session created with a user key without user_id that user's", async () => {
    const f = await fixture();
    const session = await request(t.baseUrl).post('/sessions').set('Authorization', `Bearer ${f.ownKey}`).send({}).expect(201);
    expect(session.body.user_id).toBe(f.userId);
  });

  it('answers POST /users naming another user with a user key 404, the same body as an id nobody has', async () => {
    const f = await fixture();
    const own = { Authorization: `Bearer ${f.ownKey}` };
    const before = await snapshot();
    const existing = await request(t.baseUrl).post('/users').set(own).send({ user_id: 'mallory', username: 'Mallory 2' }).expect(404);
    const missing = await request(t.baseUrl).post('/users').set(own).send({ user_id: 'nobody-ever' }).expect(404);
    const notFound = (userId: string) => ({
      statusCode: 404,
      error: 'Not Found',
      code: 'USER_NOT_FOUND',
      message: `User "${userId}" was not found.`,
    });
    expect(existing.body).toEqual(notFound('mallory'));
    expect(missing.body).toEqual(notFound('nobody-ever'));
    // What the admin key gets for a user that does not exist: the key learned nothing.
    expect((await request(t.baseUrl).get('/users/nobody-ever').set(admin).expect(404)).body).toEqual(missing.body);
    // Its own id: it exists (409); no id: only the admin key has ids made (403).
    expect((await request(t.baseUrl).post('/users').set(own).send({ user_id: f.userId }).expect(409)).body.code).toBe('USER_EXISTS');
    expect((await request(t.baseUrl).post('/users').set(own).send({}).expect(403)).body.code).toBe('FORBIDDEN');
    expect(await snapshot()).toEqual(before);
  });

  it('checks the user a request names wherever it names one: a second copy cannot vouch for the first', async () => {
    const f = await fixture();
    const before = await snapshot();
    const own = { Authorization: `Bearer ${f.ownKey}` };
    await request(t.baseUrl).post(`/chat?user_id=${f.userId}`).set(own).send({ user_id: 'mallory', message: 'hi' }).expect(404);
    await request(t.baseUrl).post(`/sessions?user_id=${f.userId}`).set(own).send({ user_id: 'mallory' }).expect(404);
    await request(t.baseUrl).get(`/users/mallory/usage?user_id=${f.userId}`).set(own).expect(404);
    // null reads as "absent" to validation: it must not slip past as someone else (or no one).
    await request(t.baseUrl).post('/users').set(own).send({ user_id: null }).expect(400);
    await request(t.baseUrl).post('/sessions').set(own).send({ user_id: null }).expect(400);
    expect(await snapshot()).toEqual(before);
  });

  it('answers 401 with the contract body and a Bearer challenge', async () => {
    const response = await request(t.baseUrl).get('/models').expect(401);
    expect(response.body).toEqual({ statusCode: 401, error: 'Unauthorized', code: 'UNAUTHORIZED', message: expect.any(String) });
    const health = await request(t.baseUrl).get('/health').expect(200);
    expect(health.body.auth).toBe('on');
  });
});

describe('Open mode (no ADMIN_API_KEY)', () => {
  it('says so in /health and refuses to issue keys', async () => {
    const t = await startTestApp();
    try {
      expect((await request(t.baseUrl).get('/health').expect(200)).body.auth).toBe('off');
      await request(t.baseUrl).post('/users').send({ user_id: 'opal' }).expect(201);
      const response = await request(t.baseUrl).post('/users/opal/api-keys').expect(403);
      expect(response.body.code).toBe('FORBIDDEN');
    } finally {
      await t.close();
    }
  });
});
