import request from 'supertest';
import type { ScriptedReply } from '../../src/gemini/emulator/gemini-emulator.js';
import { count, createSession, errorBody, historyRows, send } from '../support/http.js';
import { APP_HOOK_TIMEOUT_MS, startTestApp, useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { DEFAULTS } from '../../src/config/environment.js';

type SentContent = { role: string; parts: { text: string }[] };

function sentContents(t: TestApp, index = -1): { role: string; text: string }[] {
  const requests = t.emulator.generateRequests();
  const body = requests.at(index)!.body as { contents: SentContent[] };
  return body.contents.map((content) => ({ role: content.role, text: content.parts.map((p) => p.text).join('') }));
}

describe('A turn', () => {
  // No retries here: each scripted failure must reach the client as it is (retries: faults spec).
  const t = useTestApp({ env: { GEMINI_TIMEOUT_MS: '400', GEMINI_RETRIES: '0' } });

  it('sends the whole stored conversation, in order, with the system instruction and output cap', async () => {
    const sessionId = await createSession(t, { user_id: 'ann', system_instruction: 'Answer in French.' });
    t.emulator.enqueue({ text: 'reply one' }, { text: 'reply two' }, { text: 'reply three' });
    await send(t, sessionId, 'turn one').expect(201);
    await send(t, sessionId, 'turn two').expect(201);
    await send(t, sessionId, 'turn three').expect(201);

    expect(sentContents(t, 2)).toEqual([
      { role: 'user', text: 'turn one' },
      { role: 'model', text: 'reply one' },
      { role: 'user', text: 'turn two' },
      { role: 'model', text: 'reply two' },
      { role: 'user', text: 'turn three' },
    ]);
    const third = t.emulator.generateRequests()[2];
    expect(third.model).toBe(DEFAULTS.GEMINI_MODEL);
    expect(third.action).toBe('generateContent');
    expect(third.headers['x-goog-api-key']).toBe('test-key');
    expect(third.body.systemInstruction).toEqual({ parts: [{ text: 'Answer in French.' }], role: 'user' });
    expect(third.body.generationConfig.maxOutputTokens).toBe(8192);
  });

  it('stores both rows with usage and integer nano-dollar cost, only on success', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({
      text: 'cached answer',
      usage: {
        promptTokenCount: 10_000,
        cachedContentTokenCount: 8_000,
        candidatesTokenCount: 100,
        thoughtsTokenCount: 50,
        toolUsePromptTokenCount: 20,
      },
    });
    const response = await send(t, sessionId, 'question').expect(201);
    const rows = await historyRows(t, sessionId);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ role: 'user', content: 'question', cost_nano_usd: null, model: null });
    // (10000 − 8000) × 300 + 8000 × 30 + 20 × 300 + (100 + 50) × 2500 nano-dollars
    expect(rows[1]).toMatchObject({
      role: 'model',
      content: 'cached answer',
      model: DEFAULTS.GEMINI_MODEL,
      prompt_tokens: 10_000,
      cached_tokens: 8_000,
      output_tokens: 100,
      thoughts_tokens: 50,
      tool_prompt_tokens: 20,
      total_tokens: 10_170,
      cost_nano_usd: 1_221_000,
      cost_status: 'priced',
      finish_reason: 'STOP',
    });
    expect(Number(rows[1].latency_ms)).toBeGreaterThanOrEqual(0);
    expect(response.body.model_message.cost_usd).toBe(0.001221);
  });

  it('prices the model that answered (modelVersion), not only the one requested', async () => {
    const sessionId = await createSession(t, { model: 'gemini-2.5-flash' });
    t.emulator.enqueue({
      text: 'hi',
      modelVersion: 'models/gemini-2.5-pro',
      usage: { promptTokenCount: 1000, candidatesTokenCount: 0, thoughtsTokenCount: 0 },
    });
    const response = await send(t, sessionId, 'hello').expect(201);
    expect(response.body.model_message.model).toBe('gemini-2.5-pro');
    expect(response.body.model_message.cost_usd).toBe(0.00125);
  });

  it('reports a model without a price as unpriced: cost null, never 0, and not in the total', async () => {
    const sessionId = await createSession(t, { model: 'gemini-experimental-x' });
    t.emulator.enqueue({ text: 'hi', usage: { promptTokenCount: 10, candidatesTokenCount: 10, thoughtsTokenCount: 0 } });
    const response = await send(t, sessionId, 'hello').expect(201);
    expect(response.body.model_message).toMatchObject({ cost_usd: null, cost_status: 'unpriced', usage: { total_tokens: 20 } });
    expect(response.body.session_total_cost_usd).toBe(0);
    const [row] = (await historyRows(t, sessionId)).filter((r) => r.role === 'model');
    expect(row).toMatchObject({ cost_nano_usd: null, cost_status: 'unpriced' });
  });

  describe('when Gemini fails', () => {
    // [name, reply, status, code, message, whether Gemini billed it (its usage is in the body and the ledger)]
    const failures: [string, ScriptedReply, number, string, RegExp | null, boolean?][] = [
      ['rate limit (429)', { status: 429 }, 503, 'UPSTREAM_RATE_LIMITED', null],
      ['internal error (500)', { status: 500 }, 502, 'UPSTREAM_ERROR', null],
      ['unavailable (503)', { status: 503 }, 502, 'UPSTREAM_ERROR', null],
      ['bad key (403)', { status: 403 }, 502, 'UPSTREAM_ERROR', /GEMINI_API_KEY/],
      ['upstream deadline (504)', { status: 504 }, 504, 'UPSTREAM_TIMEOUT', null],
      ['a malformed body', { malformed: true }, 502, 'UPSTREAM_ERROR', null],
      ['a connection cut mid-body', { breakAfterChunks: 0 }, 502, 'UPSTREAM_ERROR', null],
      ['a blocked prompt', { blocked: 'SAFETY' }, 422, 'CONTENT_BLOCKED', /SAFETY/, true],
      ['an empty reply', { empty: true, finishReason: 'MAX_TOKENS' }, 422, 'CONTENT_BLOCKED', /MAX_TOKENS/, true],
      ['no answer within GEMINI_TIMEOUT_MS', { delayMs: 2_000 }, 504, 'UPSTREAM_TIMEOUT', /400 ms/],
    ];

    it.each(failures)('%s → %d %s, history unchanged', async (_name, reply, status, code, message, billed = false) => {
      const sessionId = await createSession(t);
      t.emulator.enqueue({ text: 'first answer' });
      await send(t, sessionId, 'first').expect(201);
      const before = await historyRows(t, sessionId);

      t.emulator.enqueue({ ...reply, errorMessage: 'upstream-detail-that-must-not-leak' });
      const ledgerBefore = await count(t, 'spend_ledger');
      const response = await send(t, sessionId, 'second').expect(status);
      const cost = billed
        ? { usage: expect.any(Object), cost_usd: expect.any(Number), cost_status: 'priced', priced_as: expect.any(String) }
        : {};
      expect(response.body).toEqual({ ...errorBody(status, code), ...cost });
      expect(await count(t, 'spend_ledger')).toBe(ledgerBefore + (billed ? 1 : 0));
      if (message) expect(response.body.message).toMatch(message);
      expect(JSON.stringify(response.body)).not.toContain('upstream-detail-that-must-not-leak');
      if (status === 503) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);

      expect(await historyRows(t, sessionId)).toEqual(before);
      const session = await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200);
      expect(session.body.message_count).toBe(2);
      // The failed turn left nothing behind: the next one sees only the first exchange.
      t.emulator.enqueue({ text: 'third answer' });
      await send(t, sessionId, 'third').expect(201);
      expect(sentContents(t).map((c) => c.text)).toEqual(['first', 'first answer', 'third']);
    });

    it('names the model and GEMINI_MODEL when the model is retired (404)', async () => {
      const sessionId = await createSession(t, { model: 'gemini-1.5-pro' });
      const response = await send(t, sessionId, 'hello').expect(502);
      expect(response.body).toEqual(errorBody(502, 'UPSTREAM_ERROR'));
      expect(response.body.message).toMatch(/"gemini-1\.5-pro".*GEMINI_MODEL/);
      expect(await historyRows(t, sessionId)).toEqual([]);
    });

    it('creates no chat when the first /chat turn fails', async () => {
      const sessionsBefore = await count(t, 'chat_sessions');
      t.emulator.enqueue({ status: 500 });
      await request(t.baseUrl).post('/chat').send({ user_id: 'newcomer', message: 'hello' }).expect(502);
      expect(await count(t, 'chat_sessions')).toBe(sessionsBefore);
      await request(t.baseUrl).get('/history/newcomer').expect(200, { chat_sessions: [] });
    });

    it('answers 502 when Gemini cannot be reached at all', async () => {
      const unreachable = await startTestApp({ env: { GEMINI_BASE_URL: 'http://127.0.0.1:9', GEMINI_API_KEY: 'k' } });
      try {
        const sessionId = await createSession(unreachable);
        const response = await send(unreachable, sessionId, 'hello').expect(502);
        expect(response.body.message).toBe('Gemini could not be reached.');
        expect(await historyRows(unreachable, sessionId)).toEqual([]);
      } finally {
        await unreachable.close();
      }
    });
  });

  it('runs concurrent turns of one session one at a time, each seeing the ones before', async () => {
    const sessionId = await createSession(t);
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => send(t, sessionId, `message ${i}`)));
    expect(replies.map((r) => r.status)).toEqual(Array(6).fill(201));
    const contextSizes = t.emulator.generateRequests().map((r) => (r.body.contents as unknown[]).length);
    expect(contextSizes).toEqual([1, 3, 5, 7, 9, 11]);
    const rows = await historyRows(t, sessionId);
    expect(rows.map((r) => r.role)).toEqual(Array(6).fill(['user', 'model']).flat());
    expect(rows.map((r) => r.content).filter((_, i) => i % 2 === 0)).toEqual(Array.from({ length: 6 }, (_, i) => `message ${i}`));
  });
});

describe('Ownership', () => {
  const t = useTestApp();

  it("keeps one user out of another user's chat, with the same 404 as a missing one", async () => {
    const own = await request(t.baseUrl).post('/chat').send({ user_id: 'owner', message: 'private note' }).expect(200);
    const chatId = own.body.chat_id as string;
    const requestsBefore = t.emulator.generateRequests().length;

    const post = await request(t.baseUrl).post('/chat').send({ user_id: 'intruder', message: 'let me in', chat_id: chatId }).expect(404);
    expect(post.body).toEqual(errorBody(404, 'CHAT_NOT_FOUND'));
    const read = await request(t.baseUrl).get(`/history/intruder/${chatId}`).expect(404);
    const missing = await request(t.baseUrl).get('/history/intruder/0d7f4a52-3b7e-4a39-9d7e-2f4c1b6a8e90').expect(404);
    expect(read.body.code).toBe(missing.body.code);
    expect(JSON.stringify(read.body)).not.toContain('private note');
    await request(t.baseUrl).get('/history/intruder').expect(200, { chat_sessions: [] });

    expect(t.emulator.generateRequests()).toHaveLength(requestsBefore);
    expect(await historyRows(t, chatId)).toHaveLength(2);
  });
});

describe('Restart', () => {
  it(
    'keeps history and context on the same database',
    async () => {
      const first = await startTestApp();
      const sessionId = await createSession(first, { system_instruction: 'Remember everything.' });
      first.emulator.enqueue({ text: 'noted: blue' });
      await send(first, sessionId, 'my colour is blue').expect(201);
      const before = (await request(first.baseUrl).get(`/sessions/${sessionId}/history`).expect(200)).body;
      await first.close({ keepData: true, keepEmulator: true });

      const second = await startTestApp({ database: first.database, emulator: first.emulator });
      try {
        await request(second.baseUrl).get(`/sessions/${sessionId}/history`).expect(200, before);
        second.emulator.reset();
        await send(second, sessionId, 'what is my colour?').expect(201);
        const [sent] = second.emulator.generateRequests();
        expect(sent.body.contents.map((c: SentContent) => c.parts[0].text)).toEqual([
          'my colour is blue',
          'noted: blue',
          'what is my colour?',
        ]);
        expect(sent.body.systemInstruction.parts[0].text).toBe('Remember everything.');
        const after = (await request(second.baseUrl).get(`/sessions/${sessionId}`).expect(200)).body;
        expect(after.message_count).toBe(4);
        expect(after.total_cost_usd).toBeGreaterThan(before.total_cost_usd);
      } finally {
        await second.close();
      }
    },
    APP_HOOK_TIMEOUT_MS * 2,
  );
});

describe('Offline mode', () => {
  it(
    'starts its own emulator without Gemini variables and answers /chat',
    async () => {
      const t = await startTestApp({ offline: true });
      try {
        await request(t.baseUrl)
          .get('/health')
          .expect(200, { status: 'ok', database: 'up', gemini: 'emulator', auth: 'off', model_notices: [] });
        const response = await request(t.baseUrl).post('/chat').send({ user_id: 'offline', message: 'ping' }).expect(200);
        expect(response.body.response).toContain('ping');
        expect(response.body.cost_usd).toBeGreaterThan(0);
      } finally {
        await t.close();
      }
    },
    APP_HOOK_TIMEOUT_MS * 2,
  );
});
