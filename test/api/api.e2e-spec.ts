import request from 'supertest';
import { count, createSession, errorBody, send } from '../support/http.js';
import { Readiness } from '../../src/health/readiness.js';
import { startTestApp, useTestApp } from '../support/test-app.js';
import { DEFAULTS } from '../../src/config/environment.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('HTTP contract', () => {
  const t = useTestApp();

  describe('POST /users', () => {
    it('creates a user with the given id and returns it', async () => {
      const response = await request(t.baseUrl)
        .post('/users')
        .send({ user_id: 'carol', username: 'Carol', email: 'carol@example.com' })
        .expect(201);
      expect(response.body).toEqual({
        user_id: 'carol',
        username: 'Carol',
        email: 'carol@example.com',
        created_at: expect.stringMatching(ISO_MS),
        daily_budget_usd: null,
      });
      await request(t.baseUrl).get('/users/carol').expect(200, response.body);
    });

    it('makes an id when none is given', async () => {
      const response = await request(t.baseUrl).post('/users').send({}).expect(201);
      expect(response.body.user_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.body.username).toBeNull();
    });

    it('refuses a taken id with 409 USER_EXISTS', async () => {
      await request(t.baseUrl).post('/users').send({ user_id: 'dave' }).expect(201);
      const response = await request(t.baseUrl).post('/users').send({ user_id: 'dave', username: 'Other' }).expect(409);
      expect(response.body).toEqual(errorBody(409, 'USER_EXISTS'));
      await request(t.baseUrl)
        .get('/users/dave')
        .expect(200)
        .expect((r) => expect(r.body.username).toBeNull());
    });

    it.each([
      ['an unknown field', { user_id: 'eve', admin: true }, 'admin'],
      ['a bad email', { email: 'not-an-email' }, 'email'],
      ['a user id with a slash', { user_id: 'a/b' }, 'user_id'],
      ['a user id that is not a string', { user_id: 42 }, 'user_id'],
    ])('refuses %s with 400 naming the field, storing nothing', async (_name, body, field) => {
      const before = await count(t, 'users');
      const response = await request(t.baseUrl).post('/users').send(body).expect(400);
      expect(response.body).toEqual(errorBody(400, 'VALIDATION_FAILED'));
      expect(response.body.message).toContain(field);
      expect(await count(t, 'users')).toBe(before);
    });
  });

  describe('GET /users/:user_id', () => {
    it('is 404 USER_NOT_FOUND for an unknown user', async () => {
      const response = await request(t.baseUrl).get('/users/nobody').expect(404);
      expect(response.body).toEqual(errorBody(404, 'USER_NOT_FOUND'));
    });
  });

  describe('POST /sessions', () => {
    it('creates a session with defaults, owned by "anonymous" without a user_id', async () => {
      const response = await request(t.baseUrl).post('/sessions').send({}).expect(201);
      expect(response.body).toEqual({
        session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        user_id: 'anonymous',
        title: null,
        model: DEFAULTS.GEMINI_MODEL,
        system_instruction: null,
        max_context_tokens: null,
        truncation: 'auto',
        context_limit: 1_048_576,
        context_tokens: null,
        model_notice: null,
        active_turn_id: null,
        created_at: expect.stringMatching(ISO_MS),
        updated_at: expect.stringMatching(ISO_MS),
        message_count: 0,
        total_tokens: 0,
        total_cost_usd: 0,
      });
      await request(t.baseUrl).get('/users/anonymous').expect(200);
    });

    it('creates an unknown user and keeps title, model and system instruction', async () => {
      const response = await request(t.baseUrl)
        .post('/sessions')
        .send({ user_id: 'frank', title: 'Plans', model: 'gemini-2.5-pro', system_instruction: 'Be terse.' })
        .expect(201);
      expect(response.body).toMatchObject({ user_id: 'frank', title: 'Plans', model: 'gemini-2.5-pro', system_instruction: 'Be terse.' });
      await request(t.baseUrl).get('/users/frank').expect(200);
      await request(t.baseUrl).get(`/sessions/${response.body.session_id}`).expect(200, response.body);
    });

    it.each([
      ['a model that is not a model id', { model: 'gemini 2.5; drop table' }, 'model'],
      ['an unknown field', { colour: 'red' }, 'colour'],
      ['a non-string title', { title: 5 }, 'title'],
    ])('refuses %s with 400', async (_name, body, field) => {
      const before = await count(t, 'chat_sessions');
      const response = await request(t.baseUrl).post('/sessions').send(body).expect(400);
      expect(response.body.message).toContain(field);
      expect(await count(t, 'chat_sessions')).toBe(before);
    });
  });

  describe('GET /sessions/:session_id', () => {
    it('is 404 SESSION_NOT_FOUND for an id that does not exist, whatever its shape', async () => {
      const missing = await request(t.baseUrl).get('/sessions/4b0e5c3e-8a7d-4c1e-9f57-1f2d3c4b5a69').expect(404);
      expect(missing.body).toEqual(errorBody(404, 'SESSION_NOT_FOUND'));
      const malformed = await request(t.baseUrl).get('/sessions/not-a-uuid').expect(404);
      expect(malformed.body).toEqual(errorBody(404, 'SESSION_NOT_FOUND'));
      expect(malformed.body.message).toContain('not-a-uuid');
      await send(t, 'not-a-uuid', 'hello?').expect(404);
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });
  });

  describe('POST /sessions/:session_id/messages', () => {
    it('answers 201 with both messages, usage, cost and the session total', async () => {
      const sessionId = await createSession(t, { user_id: 'gina' });
      t.emulator.enqueue({
        text: 'Hello!',
        usage: { promptTokenCount: 20, candidatesTokenCount: 253, thoughtsTokenCount: 260 },
      });
      const response = await send(t, sessionId, 'Hi there').expect(201);
      expect(response.body).toEqual({
        session_id: sessionId,
        reply: 'Hello!',
        user_message: {
          id: expect.any(Number),
          role: 'user',
          content: 'Hi there',
          created_at: expect.stringMatching(ISO_MS),
          attachments: [],
        },
        model_message: {
          id: response.body.user_message.id + 1,
          role: 'model',
          content: 'Hello!',
          created_at: expect.stringMatching(ISO_MS),
          model: DEFAULTS.GEMINI_MODEL,
          finish_reason: 'STOP',
          usage: {
            prompt_tokens: 20,
            cached_tokens: 0,
            output_tokens: 253,
            thoughts_tokens: 260,
            tool_prompt_tokens: 0,
            audio_prompt_tokens: 0,
            audio_cached_tokens: 0,
            total_tokens: 533,
            prompt_tokens_by_modality: { text: 20, image: 0, audio: 0, video: 0, document: 0 },
            cached_tokens_by_modality: { text: 0, image: 0, audio: 0, video: 0, document: 0 },
          },
          // 20 × $0.30/M + (253 + 260) × $2.50/M
          cost_usd: 0.0012885,
          cost_status: 'priced',
          priced_as: DEFAULTS.GEMINI_MODEL,
          context: { messages: 0, first_message_id: null, truncated: false },
        },
        session_total_cost_usd: 0.0012885,
      });
    });

    it.each([
      ['an empty message', { message: '' }],
      ['a blank message', { message: '   \n ' }],
      ['no message', {}],
      ['a non-string message', { message: ['a'] }],
      ['an unknown field', { message: 'hi', model: 'x' }],
    ])('refuses %s with 400 before anything is sent or stored', async (_name, body) => {
      const sessionId = await createSession(t);
      const response = await request(t.baseUrl).post(`/sessions/${sessionId}/messages`).send(body).expect(400);
      expect(response.body).toEqual(errorBody(400, 'VALIDATION_FAILED'));
      expect(t.emulator.generateRequests()).toHaveLength(0);
      expect(await count(t, 'chat_history')).toBe(await count(t, 'chat_history'));
      await request(t.baseUrl)
        .get(`/sessions/${sessionId}`)
        .expect((r) => expect(r.body.message_count).toBe(0));
    });

    it('refuses a message longer than MAX_MESSAGE_CHARS (counted in characters) with 400', async () => {
      const small = await startTestApp({ env: { MAX_MESSAGE_CHARS: '10' }, emulator: t.emulator });
      try {
        const sessionId = await createSession(small);
        await send(small, sessionId, '😀'.repeat(10)).expect(201);
        const response = await send(small, sessionId, 'x'.repeat(11)).expect(400);
        expect(response.body.message).toMatch(/message: must be at most 10 characters/);
      } finally {
        await small.close({ keepEmulator: true });
      }
    });

    it('is 404 for an unknown session, with nothing sent upstream', async () => {
      const response = await send(t, '4b0e5c3e-8a7d-4c1e-9f57-1f2d3c4b5a69', 'hello').expect(404);
      expect(response.body).toEqual(errorBody(404, 'SESSION_NOT_FOUND'));
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });
  });

  describe('GET /sessions/:session_id/history', () => {
    it('returns the messages in order with the totals', async () => {
      const sessionId = await createSession(t);
      t.emulator.enqueue(
        { text: 'one', usage: { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 0 } },
        { text: 'two', usage: { promptTokenCount: 30, candidatesTokenCount: 7, thoughtsTokenCount: 3 } },
      );
      await send(t, sessionId, 'first').expect(201);
      await send(t, sessionId, 'second').expect(201);
      const response = await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200);
      expect(response.body.session_id).toBe(sessionId);
      expect(response.body.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
        ['user', 'first'],
        ['model', 'one'],
        ['user', 'second'],
        ['model', 'two'],
      ]);
      const ids = response.body.messages.map((m: { id: number }) => m.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(response.body.message_count).toBe(4);
      expect(response.body.total_tokens).toBe(15 + 40);
      // (10 × 0.30 + 5 × 2.50) + (30 × 0.30 + 10 × 2.50) per million
      expect(response.body.total_cost_usd).toBe(0.0000495);
      const session = await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200);
      expect(session.body).toMatchObject({ message_count: 4, total_tokens: 55, total_cost_usd: 0.0000495 });
    });

    it('is 404 for an unknown session', async () => {
      await request(t.baseUrl).get('/sessions/4b0e5c3e-8a7d-4c1e-9f57-1f2d3c4b5a69/history').expect(404);
    });
  });

  describe('POST /chat and /history (original API)', () => {
    it('creates the user and a chat, then continues it', async () => {
      const first = await request(t.baseUrl).post('/chat').send({ user_id: 'hank', message: 'Hello' }).expect(200);
      expect(first.body).toEqual({
        response: expect.stringContaining('Hello'),
        chat_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        usage: {
          prompt_tokens: expect.any(Number),
          cached_tokens: 0,
          output_tokens: expect.any(Number),
          thoughts_tokens: expect.any(Number),
          tool_prompt_tokens: 0,
          audio_prompt_tokens: 0,
          audio_cached_tokens: 0,
          total_tokens: expect.any(Number),
          prompt_tokens_by_modality: { text: expect.any(Number), image: 0, audio: 0, video: 0, document: 0 },
          cached_tokens_by_modality: { text: 0, image: 0, audio: 0, video: 0, document: 0 },
        },
        cost_usd: expect.any(Number),
      });
      await request(t.baseUrl).get('/users/hank').expect(200);
      const second = await request(t.baseUrl)
        .post('/chat')
        .send({ user_id: 'hank', message: 'Again', chat_id: first.body.chat_id })
        .expect(200);
      expect(second.body.chat_id).toBe(first.body.chat_id);

      await request(t.baseUrl)
        .get('/history/hank')
        .expect(200, { chat_sessions: [first.body.chat_id] });
      const history = await request(t.baseUrl).get(`/history/hank/${first.body.chat_id}`).expect(200);
      expect(history.body).toEqual({
        history: [
          { role: 'user', content: 'Hello', timestamp: expect.stringMatching(ISO_MS) },
          { role: 'model', content: first.body.response, timestamp: expect.stringMatching(ISO_MS) },
          { role: 'user', content: 'Again', timestamp: expect.stringMatching(ISO_MS) },
          { role: 'model', content: second.body.response, timestamp: expect.stringMatching(ISO_MS) },
        ],
      });
    });

    it('lists chats oldest first and [] for a user with none', async () => {
      const a = await request(t.baseUrl).post('/chat').send({ user_id: 'ivy', message: 'a' }).expect(200);
      const b = await request(t.baseUrl).post('/chat').send({ user_id: 'ivy', message: 'b' }).expect(200);
      await request(t.baseUrl)
        .get('/history/ivy')
        .expect(200, { chat_sessions: [a.body.chat_id, b.body.chat_id] });
      await request(t.baseUrl).get('/history/nobody-at-all').expect(200, { chat_sessions: [] });
    });

    it('starts a new chat for a chat_id of null, as for one left out', async () => {
      const response = await request(t.baseUrl).post('/chat').send({ user_id: 'lea', message: 'hi', chat_id: null }).expect(200);

      expect(response.body.chat_id).toMatch(/^[0-9a-f-]{36}$/);
      await request(t.baseUrl)
        .get('/history/lea')
        .expect(200, { chat_sessions: [response.body.chat_id] });
      expect(t.emulator.generateRequests()).toHaveLength(1);
    });

    it('is 404 CHAT_NOT_FOUND for a chat_id that does not exist, and never creates it', async () => {
      const chatId = '0d7f4a52-3b7e-4a39-9d7e-2f4c1b6a8e90';
      const response = await request(t.baseUrl).post('/chat').send({ user_id: 'jack', message: 'hi', chat_id: chatId }).expect(404);
      expect(response.body).toEqual(errorBody(404, 'CHAT_NOT_FOUND'));
      expect(t.emulator.generateRequests()).toHaveLength(0);
      const [row] = await t.query('SELECT COUNT(*) AS n FROM chat_sessions WHERE chat_id = ?', [chatId]);
      expect(Number(row.n)).toBe(0);
    });

    it('is 404 CHAT_NOT_FOUND for a chat_id of any other shape too', async () => {
      const response = await request(t.baseUrl).post('/chat').send({ user_id: 'kim', message: 'hi', chat_id: 'abc' }).expect(404);
      expect(response.body).toEqual(errorBody(404, 'CHAT_NOT_FOUND'));
      await request(t.baseUrl).get('/history/kim/abc').expect(404);
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });

    it.each([
      ['no user_id', { message: 'hi' }, 'user_id'],
      ['no message', { user_id: 'kim' }, 'message'],
      ['a chat_id that is not a string', { user_id: 'kim', message: 'hi', chat_id: 42 }, 'chat_id'],
    ])('refuses %s with 400', async (_name, body, field) => {
      const response = await request(t.baseUrl).post('/chat').send(body).expect(400);
      expect(response.body.message).toContain(field);
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });
  });

  describe('service routes', () => {
    it('GET /health/ready says the instance serves: migrated, database up', async () => {
      await request(t.baseUrl).get('/health/ready').expect(200, { status: 'ready', database: 'up' });
    });

    it('while draining (after SIGTERM), GET /health/ready is 503 and new requests are 503 NOT_READY on a closing connection', async () => {
      const draining = await startTestApp({ emulator: t.emulator });
      try {
        draining.app.get(Readiness).drain();
        await request(draining.baseUrl).get('/health/ready').expect(503, { status: 'draining', database: 'up' });
        await request(draining.baseUrl).get('/health').expect(200);
        const refused = await request(draining.baseUrl).post('/sessions').send({}).expect(503);
        expect(refused.body).toEqual(errorBody(503, 'NOT_READY'));
        expect(refused.headers).toMatchObject({ 'retry-after': '1', connection: 'close' });
        expect(await draining.query('SELECT chat_id FROM chat_sessions')).toEqual([]);
      } finally {
        await draining.close({ keepEmulator: true });
      }
    });

    it('GET /health reports the database and the Gemini mode', async () => {
      // model_notices: test/api/models.e2e-spec.ts (other specs here leave sessions on retired models).
      const response = await request(t.baseUrl).get('/health').expect(200);
      expect(response.body).toMatchObject({ status: 'ok', database: 'up', gemini: 'configured', auth: 'off' });
    });

    it('GET /models lists the price table in force', async () => {
      const response = await request(t.baseUrl).get('/models').expect(200);
      expect(response.body).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ model: 'gemini-2.5-flash', input_per_million_usd: 0.3, output_per_million_usd: 2.5 }),
        ]),
      );
    });

    it('serves the chat page at /', async () => {
      const response = await request(t.baseUrl).get('/').expect(200);
      expect(response.headers['content-type']).toMatch(/text\/html/);
      expect(response.text).toContain('<html');
    });

    it('serves Swagger UI at /docs and an OpenAPI document describing every route at /docs-json', async () => {
      await request(t.baseUrl).get('/docs').redirects(1).expect(200).expect('content-type', /html/);
      const document = (await request(t.baseUrl).get('/docs-json').expect(200)).body;
      expect(Object.keys(document.paths).sort()).toEqual(
        [
          '/chat',
          '/files',
          '/files/{file_id}',
          '/files/{file_id}/content',
          '/health',
          '/health/ready',
          '/history/{user_id}',
          '/history/{user_id}/{chat_id}',
          '/me',
          '/metrics',
          '/models',
          '/sessions',
          '/sessions/{session_id}',
          '/sessions/{session_id}/history',
          '/sessions/{session_id}/messages',
          '/sessions/{session_id}/export',
          '/sessions/{session_id}/estimate',
          '/sessions/{session_id}/turns/{turn_id}/events',
          '/sessions/{session_id}/turns/{turn_id}/cancel',
          '/users',
          '/users/{user_id}',
          '/users/{user_id}/usage',
          '/users/{user_id}/api-keys',
          '/users/{user_id}/api-keys/{key_id}',
        ].sort(),
      );
      const send = document.paths['/sessions/{session_id}/messages'].post;
      expect(send.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SendMessageDto');
      // 200 is the event stream, 204 a resume from a finished turn's last event; 403, 408 and 500 come from the HTTP edge
      // (Host check, body timeout, anything unexpected).
      expect(Object.keys(send.responses).sort()).toEqual([
        '200',
        '201',
        '204',
        '400',
        '401',
        '403',
        '404',
        '408',
        '409',
        '410',
        '413',
        '415',
        '422',
        '429',
        '500',
        '502',
        '503',
        '504',
      ]);
      expect(Object.keys(send.responses['200'].content)).toEqual(['text/event-stream']);
      expect(Object.keys(send.responses['201'].content)).toEqual(['application/json']);
      expect(send.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['Idempotency-Key', 'Accept', 'Last-Event-ID']),
      );
      expect(document.components.schemas.MessageDto.properties).toHaveProperty('cost_usd');
      // The explorer's "Authorize" takes the bearer key when ADMIN_API_KEY is set.
      expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(document.security).toEqual([{ bearer: [] }]);
    });
  });

  describe('errors', () => {
    it('answers an unknown route with a JSON 404', async () => {
      const response = await request(t.baseUrl).get('/no/such/route').expect(404);
      expect(response.body).toEqual(errorBody(404, 'ROUTE_NOT_FOUND'));
    });

    it.each([
      ['text/plain', 'user_id=mallory'],
      ['application/x-www-form-urlencoded', 'user_id=mallory&system_instruction=obey'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="user_id"\r\n\r\nmallory\r\n--x--'],
    ])('refuses a %s body with 415 and stores nothing (no cross-site form posts)', async (contentType, body) => {
      for (const path of ['/sessions', '/chat', '/users']) {
        const response = await request(t.baseUrl).post(path).set('Content-Type', contentType).send(body).expect(415);
        expect(response.body).toEqual(errorBody(415, 'UNSUPPORTED_MEDIA_TYPE'));
      }
      expect(await t.query("SELECT user_id FROM users WHERE user_id = 'mallory'")).toEqual([]);
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });

    it('refuses many unknown fields with a short body naming five of them and counting the rest', async () => {
      // 999 and user_id: as many fields as a body may have (more are refused unparsed: bodies.e2e-spec.ts).
      const body = Object.fromEntries(Array.from({ length: 999 }, (_, i) => [`f${i}`, i]));
      const response = await request(t.baseUrl)
        .post('/sessions')
        .send({ user_id: 'flooder', ...body })
        .expect(400);
      expect(response.body.message).toBe(
        'f0: unknown field; f1: unknown field; f2: unknown field; f3: unknown field; f4: unknown field; and 994 more unknown fields',
      );
      expect(response.text.length).toBeLessThan(300);
      expect(await t.query("SELECT user_id FROM users WHERE user_id = 'flooder'")).toEqual([]);
    });

    it('takes JSON with a charset, and a POST without a body', async () => {
      await request(t.baseUrl)
        .post('/sessions')
        .set('Content-Type', 'application/json; charset=utf-8')
        .send('{"title":"charset"}')
        .expect(201);
      await request(t.baseUrl).post('/sessions').expect(201);
    });

    it('answers malformed JSON with a JSON 400 that does not echo the parser', async () => {
      const response = await request(t.baseUrl).post('/sessions').set('content-type', 'application/json').send('{"user_id": ').expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'VALIDATION_FAILED',
        message: 'The request body is not valid JSON.',
      });
    });

    it('answers a body over 1 MiB with a JSON 413', async () => {
      const response = await request(t.baseUrl)
        .post('/users')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ username: 'x'.repeat(1024 * 1024) }))
        .expect(413);
      expect(response.body).toEqual(errorBody(413, 'PAYLOAD_TOO_LARGE'));
    });

    it.each([
      ['a lone surrogate in a string', '/users', '{"email":"\\ud800"}', 'email: is not valid Unicode'],
      // Deeper than 1,000 is refused unparsed (too many items: bodies.e2e-spec.ts).
      ['JSON nested 900 deep', '/sessions', `${'['.repeat(900)}${']'.repeat(900)}`, 'nested too deeply'],
      ['a field named __proto__', '/users', '{"user_id":"proto-1","__proto__":{"x":1}}', '__proto__: unknown field'],
      ['a field named constructor', '/users', '{"user_id":"proto-2","constructor":1}', 'constructor: unknown field'],
      ['a model id with ..', '/sessions', '{"model":"a..b"}', 'model'],
    ])('answers %s with 400 naming the problem, not 500 (found by the fuzz spec)', async (_name, path, raw, message) => {
      const response = await request(t.baseUrl).post(path).set('content-type', 'application/json').send(raw).expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.message).toContain(message);
    });

    it('refuses PATCH {model: null} and takes a budget written as 1e-7 (found by the fuzz spec)', async () => {
      const sessionId = await createSession(t, { user_id: 'patchy' });
      const nullModel = await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ model: null }).expect(400);
      expect(nullModel.body.message).toContain('model');
      const user = await request(t.baseUrl).patch('/users/patchy').send({ daily_budget_usd: 1e-7 }).expect(200);
      expect(user.body.daily_budget_usd).toBe(1e-7);
    });

    it('gives every response a request id', async () => {
      const response = await request(t.baseUrl).get('/health').expect(200);
      expect(response.headers['x-request-id']).toMatch(/^[\w-]+$/);
      expect(response.headers['x-powered-by']).toBeUndefined();
    });
  });
});

describe('Edges an outside probe found (issue 11)', () => {
  const t = useTestApp({ env: { USER_DAILY_BUDGET_USD: '5' } });

  it.each(['0x10', '1e2', '+5', ' 5', '5.0', '-1'])('takes query numbers in plain decimal digits only: limit=%j is 400', async (limit) => {
    const response = await request(t.baseUrl).get('/sessions').query({ user_id: 'numbers', limit }).expect(400);
    expect(response.body.message).toMatch(/^limit: /);
  });

  it.each([
    ['from', '2026-02-30'],
    ['from', '2025-02-29'],
    ['to', '2026-13-01'],
    ['from', '2026-11-22T24:00:00Z'],
    ['to', '2026-11-22T10:60:00Z'],
  ])('refuses a %s that is not a real date or time (%s), never rolling it over', async (name, value) => {
    await createSession(t, { user_id: 'calendar' });
    const response = await request(t.baseUrl)
      .get('/users/calendar/usage')
      .query({ [name]: value })
      .expect(400);
    expect(response.body.message).toContain(`${name}: "${value}" is not a real date or time`);
  });

  it('counts every turn up to the far end of the calendar (to=9999-12-31), and takes 29 February of a leap year', async () => {
    const sessionId = await createSession(t, { user_id: 'far' });
    await send(t, sessionId, 'one turn').expect(201);
    const report = (await request(t.baseUrl).get('/users/far/usage').query({ from: '2024-02-29', to: '9999-12-31' }).expect(200)).body;
    expect(report).toMatchObject({ from: '2024-02-29T00:00:00.000Z', to: null, turns: 1 });
  });

  it.each([
    ['2026-11-01T00:00:00.123456Z', '2026-11-01T00:00:00.123Z'],
    ['2026-11-01T05:30:00+0530', '2026-11-01T00:00:00.000Z'],
    ['2026-11-01t05:30:00+05', '2026-11-01T00:30:00.000Z'],
    ['2026-11-01T00:00:00z', '2026-11-01T00:00:00.000Z'],
    ['2026-10-31T19:00:00-05:00', '2026-11-01T00:00:00.000Z'],
  ])('reads the ISO-8601 timestamp %s as %s', async (from, expected) => {
    await createSession(t, { user_id: 'iso' });
    const report = (await request(t.baseUrl).get('/users/iso/usage').query({ from }).expect(200)).body;
    expect(report.from).toBe(expected);
  });

  it('refuses a start past the end of the calendar instead of counting everything', async () => {
    await createSession(t, { user_id: 'late' });
    const response = await request(t.baseUrl).get('/users/late/usage').query({ from: '9999-12-31T23:00:00-05:00' }).expect(400);
    expect(response.body.message).toContain('past the end of the calendar');
  });

  it('says a budget that is not a number is not a number', async () => {
    await request(t.baseUrl).post('/users').send({ user_id: 'typed' }).expect(201);
    const response = await request(t.baseUrl).patch('/users/typed').send({ daily_budget_usd: '5' }).expect(400);
    expect(response.body.message).toBe('daily_budget_usd: daily_budget_usd must be a number of US dollars, such as 5 or 0.25');
  });

  it('refuses turns on a model with no price for a user under a budget: 422 MODEL_UNPRICED, nothing sent', async () => {
    const sessionId = await createSession(t, { user_id: 'dodger', model: 'gemini-unpriced-x' });
    const response = await send(t, sessionId, 'free ride?').expect(422);
    expect(response.body).toEqual(errorBody(422, 'MODEL_UNPRICED'));
    expect(t.emulator.generateRequests()).toHaveLength(0);
    expect(await t.query('SELECT id FROM chat_history WHERE chat_id = ?', [sessionId])).toEqual([]);
  });

  it('keeps a title with line breaks on its one line in the Markdown export', async () => {
    const sessionId = await createSession(t, { user_id: 'exporter', title: 'Plans\r\n# Injected heading\n- injected item' });
    const markdown = (await request(t.baseUrl).get(`/sessions/${sessionId}/export?format=markdown`).expect(200)).text;
    expect(markdown.split('\n')[0]).toBe('# Plans # Injected heading - injected item');
    expect(markdown).not.toMatch(/^# Injected/m);
  });

  it.each([
    ['put', '/sessions', 'GET, HEAD, POST'],
    ['delete', '/chat', 'POST'],
    ['post', '/sessions/00000000-0000-4000-8000-000000000000', 'GET, HEAD, PATCH, DELETE'],
    ['get', '/users/someone/api-keys', 'POST'],
  ])('answers %s %s, a known route with another method, 405 with Allow: %s', async (method, path, allow) => {
    const response = await (request(t.baseUrl) as unknown as Record<string, (path: string) => request.Test>)[method](path).expect(405);
    expect(response.body).toEqual(errorBody(405, 'METHOD_NOT_ALLOWED'));
    expect(response.headers.allow.split(', ').sort()).toEqual(allow.split(', ').sort());
  });

  it('still answers an unknown route 404 and the page, docs and health as before', async () => {
    await request(t.baseUrl).put('/nowhere').expect(404);
    await request(t.baseUrl).get('/').expect(200);
    await request(t.baseUrl).head('/health').expect(200);
    await request(t.baseUrl).get('/docs-json').expect(200);
  });

  it('sends a CSP without upgrade-insecure-requests (the page works over plain HTTP behind any name)', async () => {
    const response = await request(t.baseUrl).get('/').expect(200);
    expect(response.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
  });
});
