import request from 'supertest';
import { createSession, historyRows, send } from '../support/http.js';
import { storedCostMismatches } from '../support/stored-costs.js';
import { useTestApp } from '../support/test-app.js';
import { DEFAULTS } from '../../src/config/environment.js';

// Every app a spec starts checks its stored costs when it closes (test/support/test-app.ts);
// this spec drives every token class and pricing path through real turns, then checks that the
// check itself can fail.
describe('Stored costs', () => {
  const t = useTestApp();

  const turns: [string, Record<string, unknown>, object][] = [
    ['text only', {}, { usage: { promptTokenCount: 20, candidatesTokenCount: 253, thoughtsTokenCount: 260 } }],
    ['cached', {}, { usage: { promptTokenCount: 5000, cachedContentTokenCount: 4000, candidatesTokenCount: 10 } }],
    [
      'audio, some of it cached',
      {},
      {
        usage: {
          promptTokenCount: 3000,
          cachedContentTokenCount: 1000,
          candidatesTokenCount: 40,
          thoughtsTokenCount: 0,
          promptTokensDetails: [
            { modality: 'TEXT', tokenCount: 1800 },
            { modality: 'AUDIO', tokenCount: 1200 },
          ],
          cacheTokensDetails: [
            { modality: 'AUDIO', tokenCount: 600 },
            { modality: 'TEXT', tokenCount: 400 },
          ],
        },
      },
    ],
    ['tool prompt', {}, { usage: { promptTokenCount: 100, toolUsePromptTokenCount: 70, candidatesTokenCount: 5 } }],
    [
      'long context on pro',
      { model: 'gemini-2.5-pro' },
      { usage: { promptTokenCount: 250_000, cachedContentTokenCount: 50_000, candidatesTokenCount: 900, thoughtsTokenCount: 1200 } },
    ],
    [
      'a versioned modelVersion',
      {},
      { modelVersion: 'models/gemini-2.5-flash-001', usage: { promptTokenCount: 7, candidatesTokenCount: 3 } },
    ],
    [
      'rerouted to a model without a price',
      {},
      { modelVersion: 'gemini-9-unknown', usage: { promptTokenCount: 7, candidatesTokenCount: 3 } },
    ],
    ['a model without a price', { model: 'gemini-9-unknown' }, { usage: { promptTokenCount: 7, candidatesTokenCount: 3 } }],
  ];

  it.each(turns)('reproduces the cost of a turn with %s from what was stored', async (_name, session, reply) => {
    const sessionId = await createSession(t, session);
    t.emulator.enqueue(reply);
    await send(t, sessionId, 'price me').expect(201);
    const { checked, mismatches } = await storedCostMismatches(t.app);
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it('stores audio token counts, so their cost is reproducible', async () => {
    // A model whose audio rates differ from its text rates.
    const sessionId = await createSession(t, { model: 'gemini-2.5-flash' });
    t.emulator.enqueue(turns[2][2]);
    const response = await send(t, sessionId, 'audio').expect(201);
    expect(response.body.model_message.usage).toMatchObject({
      prompt_tokens: 3000,
      cached_tokens: 1000,
      audio_prompt_tokens: 1200,
      audio_cached_tokens: 600,
    });
    const [, model] = await historyRows(t, sessionId);
    expect(model).toMatchObject({ audio_prompt_tokens: 1200, audio_cached_tokens: 600 });
    // Fresh text 3000 - 1000 cached - 600 fresh audio = 1400 at 0.30, 600 fresh audio at 1.00,
    // 400 cached text at 0.03, 600 cached audio at 0.10, 40 output at 2.50 (USD per 1M tokens):
    // 420,000 + 600,000 + 12,000 + 60,000 + 100,000 nano-dollars.
    expect(Number(model.cost_nano_usd)).toBe(1_192_000);
    expect(response.body.model_message.cost_usd).toBe(0.001192);
  });

  it('finds a stored cost that its usage does not reproduce', async () => {
    const sessionId = await createSession(t);
    await send(t, sessionId, 'tamper with me').expect(201);
    const [, model] = await historyRows(t, sessionId);
    await t.query('UPDATE chat_history SET cost_nano_usd = cost_nano_usd + 1 WHERE id = ?', [model.id]);
    const { mismatches } = await storedCostMismatches(t.app);
    expect(mismatches).toEqual([
      {
        table: 'chat_history',
        id: model.id,
        model: DEFAULTS.GEMINI_MODEL,
        stored: Number(model.cost_nano_usd) + 1,
        recomputed: Number(model.cost_nano_usd),
      },
    ]);
    // Put it back: the app checks every stored cost when it closes.
    await t.query('UPDATE chat_history SET cost_nano_usd = cost_nano_usd - 1 WHERE id = ?', [model.id]);
    await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200);
  });

  describe('when Gemini reports usage that is not valid token counts', () => {
    it.each([
      ['a string', '7'],
      ['1e308', 1e308],
      ['a negative count', -5],
      ['a fraction', 2.5],
      ['2^53 + 1', 2 ** 53 + 1],
    ])('stores the reply as unpriced with no counts, never a 500 or a made-up cost (%s)', async (_name, value) => {
      const sessionId = await createSession(t, { user_id: 'odd-usage' });
      await send(t, sessionId, 'a priced turn first').expect(201);
      const before = (await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200)).body;
      t.emulator.enqueue({ text: 'a paid reply', usage: { promptTokenCount: 12, candidatesTokenCount: value as number } });

      const response = await send(t, sessionId, 'and now?').expect(201);
      expect(response.body.reply).toBe('a paid reply');
      expect(response.body.model_message).toMatchObject({ cost_status: 'unpriced', cost_usd: null });
      expect(response.body.session_total_cost_usd).toBe(before.total_cost_usd);

      const [, , , model] = await historyRows(t, sessionId);
      expect(model).toMatchObject({
        content: 'a paid reply',
        cost_nano_usd: null,
        cost_status: 'unpriced',
        total_tokens: null,
        output_tokens: null,
      });
      const after = (await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200)).body;
      expect(after).toMatchObject({ message_count: 4, total_tokens: before.total_tokens, total_cost_usd: before.total_cost_usd });
      const [line] = await t.query(
        'SELECT total_tokens, cost_nano_usd, cost_status FROM spend_ledger WHERE session_id = ? ORDER BY id DESC LIMIT 1',
        [sessionId],
      );
      expect(line).toEqual({ total_tokens: 0, cost_nano_usd: null, cost_status: 'unpriced' });
    });
  });
});
