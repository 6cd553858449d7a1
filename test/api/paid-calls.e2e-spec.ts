import request from 'supertest';
import type { ScriptedReply } from '../../src/gemini/emulator/gemini-emulator.js';
import { storedCostMismatches } from '../support/stored-costs.js';
import { count, createSession, errorBody, historyRows, send } from '../support/http.js';
import { streamMessage } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/**
 * "Every paid call is recorded" (API.md): whenever Gemini reported usage for a call, its usage
 * and cost are in the spend ledger and the day's total before the client is answered, whatever
 * the answer is — and the refusal's body says what the call cost.
 */

// The default model (gemini-3.5-flash-lite): 300 nano-dollars a prompt token, 2,500 an output or thinking token.
const THINKING_TO_THE_CAP = { promptTokenCount: 1_000, candidatesTokenCount: 0, thoughtsTokenCount: 8_192 };
const THINKING_NANO = 1_000 * 300 + 8_192 * 2_500; // 20,780,000: about $0.021, over a $0.01 budget

async function ledger(t: TestApp, userId: string) {
  return t.query<Record<string, any>>(
    'SELECT session_id, model, prompt_tokens, thoughts_tokens, cost_nano_usd, cost_status, priced_as FROM spend_ledger WHERE user_id = ? ORDER BY id',
    [userId],
  );
}

async function usageReport(t: TestApp, userId: string) {
  return (await request(t.baseUrl).get(`/users/${userId}/usage`).expect(200)).body;
}

type Way = 'a session turn' | 'a streamed session turn' | 'a /chat turn';

/** One turn the way a client sends it; the JSON answer (a streamed turn that fails before any text answers JSON too). */
async function turn(t: TestApp, way: Way, userId: string, message: string): Promise<{ status: number; body: any }> {
  if (way === 'a /chat turn') {
    const response = await request(t.baseUrl).post('/chat').send({ user_id: userId, message });
    return { status: response.status, body: response.body };
  }
  const sessionId = await createSession(t, { user_id: userId });
  if (way === 'a session turn') {
    const response = await send(t, sessionId, message);
    return { status: response.status, body: response.body };
  }
  const streamed = await streamMessage(t.baseUrl, sessionId, message);
  if (streamed.events.length === 0) return { status: streamed.status, body: JSON.parse(streamed.body) };
  // Gemini was called: the stream opened with the turn event, and a refusal is its error event, whose body has the status.
  const last = streamed.events.at(-1)!;
  return { status: last.event === 'error' ? last.data.statusCode : streamed.status, body: last.data };
}

describe('Every paid call is recorded', () => {
  const t = useTestApp({ env: { USER_DAILY_BUDGET_USD: '0.01', RATE_LIMIT_PER_MINUTE: '1000', GEMINI_RETRIES: '0' } });

  describe('a reply with usage and no text (thinking that ran into the output cap)', () => {
    it.each<Way>(['a session turn', 'a streamed session turn', 'a /chat turn'])(
      'through %s: 422 saying what it cost, in the ledger and the usage report, and the budget trips',
      async (way) => {
        const userId = `thinker-${way.replace(/\W+/g, '-')}`;
        t.emulator.setDefaultReply({ empty: true, usage: THINKING_TO_THE_CAP });

        const first = await turn(t, way, userId, 'think hard');

        expect(first.status).toBe(422);
        expect(first.body).toEqual({
          ...errorBody(422, 'CONTENT_BLOCKED'),
          usage: expect.objectContaining({ prompt_tokens: 1_000, thoughts_tokens: 8_192, total_tokens: 9_192 }),
          cost_usd: THINKING_NANO / 1e9,
          cost_status: 'priced',
          priced_as: 'gemini-3.5-flash-lite',
        });
        expect(await ledger(t, userId)).toEqual([
          expect.objectContaining({ thoughts_tokens: 8_192, cost_nano_usd: THINKING_NANO, cost_status: 'priced' }),
        ]);
        expect(await usageReport(t, userId)).toMatchObject({ turns: 1, total_cost_usd: THINKING_NANO / 1e9, total_tokens: 9_192 });
        // Nothing of the conversation is stored: there is no reply to keep.
        expect(await count(t, 'chat_history')).toBe(0);

        // The $0.01 budget is spent: the next turn is refused before any upstream call.
        const second = await turn(t, way, userId, 'think again');
        expect(second.status).toBe(429);
        expect(second.body.code).toBe('BUDGET_EXCEEDED');
        expect(t.emulator.generateRequests()).toHaveLength(1);
      },
    );
  });

  const refusals: [string, ScriptedReply][] = [
    ['a SAFETY ending with usage', { empty: true, finishReason: 'SAFETY', usage: { promptTokenCount: 40, thoughtsTokenCount: 100 } }],
    [
      'a RECITATION ending with usage',
      { empty: true, finishReason: 'RECITATION', usage: { promptTokenCount: 40, thoughtsTokenCount: 100 } },
    ],
    ['a prompt blocked after counting', { blocked: 'SAFETY', usage: { promptTokenCount: 40 } }],
    ['a reply that is only a function call', { functionCall: { name: 'lookup', args: { q: 'x' } }, usage: { promptTokenCount: 40 } }],
  ];
  const ways: Way[] = ['a session turn', 'a streamed session turn', 'a /chat turn'];

  it.each(refusals.flatMap(([name, reply]) => ways.map((way): [string, Way, ScriptedReply] => [name, way, reply])))(
    'records %s through %s: 422 with its cost, one ledger line of that cost',
    async (name, way, reply) => {
      const userId = `refused-${name}-${way}`.replace(/\W+/g, '-');
      t.emulator.enqueue(reply);

      const refused = await turn(t, way, userId, 'hello');

      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({
        code: 'CONTENT_BLOCKED',
        cost_status: 'priced',
        usage: expect.objectContaining({ prompt_tokens: 40 }),
      });
      expect(refused.body.cost_usd).toBeGreaterThan(0);
      const [line] = await ledger(t, userId);
      expect(Number(line.cost_nano_usd)).toBe(Math.round(refused.body.cost_usd * 1e9));
      expect(await usageReport(t, userId)).toMatchObject({ turns: 1, total_cost_usd: refused.body.cost_usd });
    },
  );

  it('replays a refused paid call for its Idempotency-Key with the same cost, and records it once', async () => {
    const sessionId = await createSession(t, { user_id: 'replayer' });
    t.emulator.setDefaultReply({ empty: true, usage: { promptTokenCount: 40, thoughtsTokenCount: 100 } });
    const first = await request(t.baseUrl).post(`/sessions/${sessionId}/messages`).set('Idempotency-Key', 'k-1').send({ message: 'hi' });
    const again = await request(t.baseUrl).post(`/sessions/${sessionId}/messages`).set('Idempotency-Key', 'k-1').send({ message: 'hi' });

    expect(first.status).toBe(422);
    expect(again.status).toBe(422);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(first.body.cost_usd).toBeGreaterThan(0);
    expect(await ledger(t, 'replayer')).toHaveLength(1);
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  describe('a stream that ends badly after chunks that carried usage', () => {
    it('breaks: the deltas, then an error event with the last reported usage, recorded as estimated', async () => {
      const sessionId = await createSession(t, { user_id: 'broken' });
      // The pause keeps each event in its own read (the SDK drops a data event read together with the break).
      t.emulator.enqueue({ text: 'alpha beta gamma delta', breakAfterChunks: 2, chunkDelayMs: 60 });

      const streamed = await streamMessage(t.baseUrl, sessionId, 'tell me');

      expect(streamed.status).toBe(200);
      expect(streamed.events.map((event) => event.event)).toEqual(['turn', 'delta', 'delta', 'error']);
      const failure = streamed.events.at(-1)!.data;
      expect(failure).toMatchObject({ code: 'UPSTREAM_ERROR', cost_status: 'estimated', priced_as: 'gemini-3.5-flash-lite' });
      expect(failure.usage.output_tokens).toBeGreaterThan(0);
      const [line] = await ledger(t, 'broken');
      expect(line).toMatchObject({ cost_status: 'estimated', session_id: sessionId });
      expect(Number(line.cost_nano_usd)).toBe(Math.round(failure.cost_usd * 1e9));
      expect(await historyRows(t, sessionId)).toEqual([]);
    });

    it('times out: recorded at the last reported usage, as estimated', async () => {
      const sessionId = await createSession(t, { user_id: 'slow' });
      t.emulator.enqueue({ text: 'alpha beta gamma delta', chunkDelayMs: 10_000 });

      const streamed = await streamMessage(t.baseUrl, sessionId, 'tell me slowly');

      expect(streamed.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'UPSTREAM_TIMEOUT', cost_status: 'estimated' } });
      expect(await ledger(t, 'slow')).toEqual([expect.objectContaining({ cost_status: 'estimated' })]);
    });
  });

  describe('a reply larger than any reply within GEMINI_MAX_OUTPUT_TOKENS', () => {
    const huge = { candidates: [{ content: { role: 'model', parts: [{ text: 'x'.repeat(8 * 1024 * 1024) }] }, finishReason: 'STOP' }] };

    it.each<Way>(['a session turn', 'a streamed session turn'])(
      'through %s: cut off, 502, and recorded at the most it could have cost',
      async (way) => {
        const userId = `flooded-${way.replace(/\W+/g, '-')}`;
        await request(t.baseUrl).post('/users').send({ user_id: userId }).expect(201);
        await request(t.baseUrl).patch(`/users/${userId}`).send({ daily_budget_usd: 100 }).expect(200);
        t.emulator.enqueue({ fields: huge });

        const answer = await turn(t, way, userId, 'short question');

        expect(answer.status).toBe(502);
        expect(answer.body).toMatchObject({
          code: 'UPSTREAM_ERROR',
          cost_status: 'estimated',
          usage: expect.objectContaining({ output_tokens: 8192 }),
        });
        expect(await ledger(t, userId)).toEqual([expect.objectContaining({ cost_status: 'estimated' })]);
        // A stream is not read to its end: the connection is dropped at the bound. (A single 8 MB
        // body fits the loopback socket's buffers whole, so the emulator cannot tell there.)
        const [call] = t.emulator.generateRequests();
        if (way === 'a streamed session turn') await waitFor('the emulator saw the stream abandoned', () => call.clientGone === true);
        const [{ n }] = await t.query(
          'SELECT COUNT(*) AS n FROM chat_history m JOIN chat_sessions s ON s.chat_id = m.chat_id WHERE s.user_id = ?',
          [userId],
        );
        expect(Number(n)).toBe(0);
      },
    );
  });

  it('records counts that contradict the request as Gemini reported them, priced by class (each prompt token once)', async () => {
    const sessionId = await createSession(t, { user_id: 'contradicted' });
    // Output past GEMINI_MAX_OUTPUT_TOKENS (8,192), cached tokens past the prompt, a total that is no sum.
    t.emulator.enqueue({
      text: 'counted oddly',
      usage: {
        promptTokenCount: 100,
        cachedContentTokenCount: 150,
        candidatesTokenCount: 9_000,
        thoughtsTokenCount: 0,
        totalTokenCount: 7,
      },
    });

    const answer = await send(t, sessionId, 'count me').expect(201);

    expect(answer.body.model_message.usage).toMatchObject({
      prompt_tokens: 100,
      cached_tokens: 150,
      output_tokens: 9_000,
      total_tokens: 7,
    });
    // gemini-3.5-flash-lite: the whole prompt at the cached rate (30 a token), the output as reported (2,500 a token).
    const costNano = 100 * 30 + 9_000 * 2_500;
    expect(answer.body.model_message).toMatchObject({ cost_usd: costNano / 1e9, cost_status: 'priced' });
    const [line] = await ledger(t, 'contradicted');
    expect(Number(line.cost_nano_usd)).toBe(costNano);
  });

  describe('a hostile modelVersion', () => {
    it.each<[string, unknown]>([
      ['an object', { name: 'gemini-3.5-flash-lite' }],
      ['over 100 characters', `gemini-${'9'.repeat(120)}`],
      ['escape sequences and line breaks', 'gemini-3.5-flash-lite\u001b[31m\nERROR [Forged] all keys leaked'],
    ])(
      'that is %s: the turn is stored under the requested model, priced at its rates and marked estimated',
      async (_name, modelVersion) => {
        const sessionId = await createSession(t, { user_id: 'hostile' });
        t.emulator.enqueue({ text: 'fine', fields: { modelVersion } });

        const response = await send(t, sessionId, 'who answers?').expect(201);

        expect(response.body.model_message).toMatchObject({
          model: 'gemini-3.5-flash-lite',
          cost_status: 'estimated',
          priced_as: 'gemini-3.5-flash-lite',
        });
        const logged = t.logs.join('\n');
        expect(logged).not.toContain('\u001b');
        expect(logged).not.toContain('Forged');
        expect(t.logs.some((line) => line.includes('not a model id'))).toBe(true);
      },
    );
  });

  describe('U+0000', () => {
    it.each<[string, string, Record<string, unknown>]>([
      ['a message', 'message', { message: 'a\u0000b' }],
      ['a /chat user id', 'user_id', { user_id: 'nul\u0000user', message: 'hi' }],
    ])('in %s is 400 naming the field, before anything is stored or sent', async (_name, field, body) => {
      const sessionId = await createSession(t, { user_id: 'nul-sender' });
      const path = 'user_id' in body ? '/chat' : `/sessions/${sessionId}/messages`;
      const before = { messages: await count(t, 'chat_history'), sessions: await count(t, 'chat_sessions') };

      const refused = await request(t.baseUrl).post(path).send(body).expect(400);

      expect(refused.body).toEqual(errorBody(400, 'VALIDATION_FAILED'));
      expect(refused.body.message).toContain(`${field}: must not contain U+0000`);
      expect(t.emulator.generateRequests()).toHaveLength(0);
      expect({ messages: await count(t, 'chat_history'), sessions: await count(t, 'chat_sessions') }).toEqual(before);
    });

    it('in a session title is 400 naming the field', async () => {
      const refused = await request(t.baseUrl).post('/sessions').send({ title: 'x\u0000y' }).expect(400);
      expect(refused.body.message).toContain('title: must not contain U+0000');
    });

    it('in a reply is stored and answered as U+FFFD, alike on every database', async () => {
      const sessionId = await createSession(t, { user_id: 'nul-reader' });
      t.emulator.enqueue({ text: 'before\u0000after' });

      const response = await send(t, sessionId, 'say it').expect(201);

      expect(response.body.reply).toBe('before\uFFFDafter');
      const [, model] = await historyRows(t, sessionId);
      expect(model.content).toBe('before\uFFFDafter');
    });
  });

  it("passes on Gemini's Retry-After of years as at most an hour", async () => {
    const sessionId = await createSession(t, { user_id: 'patient' });
    t.emulator.enqueue({ status: 429, retryAfterSeconds: 999_999_999 });

    const response = await send(t, sessionId, 'now?').expect(503);

    expect(response.body.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(Number(response.headers['retry-after'])).toBe(3600);
  });

  it("finds a refused call's ledger line whose cost its usage does not reproduce", async () => {
    const sessionId = await createSession(t, { user_id: 'tamperer' });
    t.emulator.enqueue({ empty: true, usage: { promptTokenCount: 40, thoughtsTokenCount: 100 } });
    await send(t, sessionId, 'hi').expect(422);
    const [line] = await t.query<{ id: number }>('SELECT id FROM spend_ledger WHERE user_id = ?', ['tamperer']);
    await t.query('UPDATE spend_ledger SET cost_nano_usd = cost_nano_usd + 1 WHERE id = ?', [line.id]);

    const { mismatches } = await storedCostMismatches(t.app);

    expect(mismatches).toEqual([expect.objectContaining({ table: 'spend_ledger', id: line.id })]);
    await t.query('UPDATE spend_ledger SET cost_nano_usd = cost_nano_usd - 1 WHERE id = ?', [line.id]);
  });
});

describe('A budget reservation at the highest rates the turn could be priced at', () => {
  const t = useTestApp({ env: { USER_DAILY_BUDGET_USD: '0.01', RATE_LIMIT_PER_MINUTE: '1000' } });

  it('keeps 20 concurrent turns on a retired model within one turn of the budget when its pricier replacement answers', async () => {
    // gemini-2.0-flash is retired; Google reroutes it to gemini-3.5-flash: $1.50 / $9.00 per million.
    const sessionIds = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createSession(t, { user_id: 'rerouted', model: 'gemini-2.0-flash', title: `s${i}` })),
    );
    t.emulator.setDefaultReply({
      text: 'ok',
      modelVersion: 'gemini-3.5-flash',
      usage: { promptTokenCount: 100, candidatesTokenCount: 1_000 },
    });
    const perTurnNano = 100 * 1_500 + 1_000 * 9_000;

    const statuses = await Promise.all(sessionIds.map(async (id) => (await send(t, id, 'go')).status));

    const spent = (await ledger(t, 'rerouted')).reduce((sum, line) => sum + Number(line.cost_nano_usd), 0);
    expect(spent).toBeLessThan(10_000_000 + perTurnNano);
    expect(statuses.filter((status) => status === 201).length).toBe(t.emulator.generateRequests().length);
    expect(statuses.every((status) => status === 201 || status === 429)).toBe(true);
  });
});
