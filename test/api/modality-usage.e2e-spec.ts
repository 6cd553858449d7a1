import request from 'supertest';
import { createSession, historyRows, send } from '../support/http.js';
import { storedCostMismatches } from '../support/stored-costs.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { DEFAULTS } from '../../src/config/environment.js';

// API.md, "Attachments", cost per modality: a model message's usage splits its prompt and cached
// tokens by modality; audio is priced at the audio rates, every other modality at the input rates;
// the ledger and GET /users/:id/usage keep the split. Usage is scripted as Gemini reports it
// (promptTokensDetails, cacheTokensDetails): what the emulator reports for real media is its own.

const details = (entries: Record<string, number>) => Object.entries(entries).map(([modality, tokenCount]) => ({ modality, tokenCount }));
const split = (parts: Partial<Record<'text' | 'image' | 'audio' | 'video' | 'document', number>>) => ({
  text: 0,
  image: 0,
  audio: 0,
  video: 0,
  document: 0,
  ...parts,
});

/** A model's rates from GET /models, in nano-dollars a token (USD per 1M × 1000). */
async function ratesOf(t: TestApp, model: string) {
  const models: any[] = (await request(t.baseUrl).get('/models').expect(200)).body;
  const entry = models.find((m) => m.model === model);
  const nano = (usdPerMillion: number) => Math.round(usdPerMillion * 1000);
  return {
    input: nano(entry.input_per_million_usd),
    audio: nano(entry.input_audio_per_million_usd),
    output: nano(entry.output_per_million_usd),
    cached: nano(entry.cached_input_per_million_usd),
    cachedAudio: nano(entry.cached_input_audio_per_million_usd),
  };
}

describe('Usage and cost per modality', () => {
  const t = useTestApp();

  // A model whose audio rates differ from its input rates (0.30 / 1.00 fresh, 0.03 / 0.10 cached).
  const AUDIO_PRICED = 'gemini-2.5-flash';

  const mixed = {
    text: 'saw it all',
    usage: {
      promptTokenCount: 10_000,
      cachedContentTokenCount: 4_000,
      candidatesTokenCount: 100,
      thoughtsTokenCount: 0,
      promptTokensDetails: details({ TEXT: 200, IMAGE: 5_000, DOCUMENT: 2_000, AUDIO: 2_500, VIDEO: 300 }),
      cacheTokensDetails: details({ IMAGE: 2_000, DOCUMENT: 1_000, AUDIO: 1_000 }),
    },
  };
  const mixedPrompt = split({ text: 200, image: 5_000, audio: 2_500, video: 300, document: 2_000 });
  const mixedCached = split({ image: 2_000, audio: 1_000, document: 1_000 });

  it('splits a model message by modality, prices audio at the audio rates and every other modality at the input rates', async () => {
    const sessionId = await createSession(t, { user_id: 'mixed', model: AUDIO_PRICED });
    t.emulator.enqueue(mixed);
    const answer = await send(t, sessionId, 'look, read, listen, watch').expect(201);

    const usage = answer.body.model_message.usage;
    expect(usage).toEqual({
      prompt_tokens: 10_000,
      cached_tokens: 4_000,
      output_tokens: 100,
      thoughts_tokens: 0,
      tool_prompt_tokens: 0,
      audio_prompt_tokens: 2_500,
      audio_cached_tokens: 1_000,
      total_tokens: 10_100,
      prompt_tokens_by_modality: mixedPrompt,
      cached_tokens_by_modality: mixedCached,
    });

    // Fresh: 6,000 tokens, 1,500 of them audio (2,500 − 1,000 cached); cached: 3,000 image and
    // document at the cached rate, 1,000 audio at the cached audio rate.
    const r = await ratesOf(t, AUDIO_PRICED);
    const nano = 4_500 * r.input + 1_500 * r.audio + 3_000 * r.cached + 1_000 * r.cachedAudio + 100 * r.output;
    expect(nano).toBe(3_290_000);
    expect(answer.body.model_message).toMatchObject({ cost_usd: nano / 1e9, cost_status: 'priced', priced_as: AUDIO_PRICED });
    // Image and document tokens left out, as peers shipped (LiteLLM #14285, #24375), would be a fraction of it.
    expect(200 * r.input + 1_500 * r.audio + 1_000 * r.cachedAudio + 100 * r.output).toBeLessThan(nano * 0.6);

    // The history, the stored row and the ledger line keep the split.
    const history = (await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200)).body;
    const stored = history.messages.find((m: any) => m.role === 'model');
    expect(stored.usage).toEqual(usage);
    const [, row] = await historyRows(t, sessionId);
    expect(Number(row.cost_nano_usd)).toBe(nano);
    const [line] = await t.query('SELECT * FROM spend_ledger WHERE user_id = ?', ['mixed']);
    for (const record of [row, line]) {
      expect(
        Object.fromEntries(
          [
            'image_prompt_tokens',
            'video_prompt_tokens',
            'document_prompt_tokens',
            'audio_prompt_tokens',
            'image_cached_tokens',
            'video_cached_tokens',
            'document_cached_tokens',
            'audio_cached_tokens',
          ].map((column) => [column, Number(record[column])]),
        ),
      ).toEqual({
        image_prompt_tokens: 5_000,
        video_prompt_tokens: 300,
        document_prompt_tokens: 2_000,
        audio_prompt_tokens: 2_500,
        image_cached_tokens: 2_000,
        video_cached_tokens: 0,
        document_cached_tokens: 1_000,
        audio_cached_tokens: 1_000,
      });
    }
    expect(Number(line.cost_nano_usd)).toBe(nano);
    expect((await storedCostMismatches(t.app)).mismatches).toEqual([]);
  });

  it('keeps the split in the usage report: at its top level, per model and per day', async () => {
    const userId = 'reported';
    const flash = await createSession(t, { user_id: userId, model: AUDIO_PRICED });
    const lite = await createSession(t, { user_id: userId });
    t.emulator.enqueue(
      mixed,
      {
        text: 'a chart',
        usage: {
          promptTokenCount: 1_000,
          candidatesTokenCount: 10,
          thoughtsTokenCount: 0,
          promptTokensDetails: details({ TEXT: 226, IMAGE: 774 }),
        },
      },
      {
        text: 'a page',
        usage: {
          promptTokenCount: 600,
          candidatesTokenCount: 20,
          thoughtsTokenCount: 0,
          promptTokensDetails: details({ DOCUMENT: 516, TEXT: 84 }),
        },
      },
    );
    await send(t, flash, 'everything').expect(201);
    await send(t, lite, 'a chart').expect(201);
    await send(t, flash, 'a page').expect(201);
    // The last two the day before.
    const lines = await t.query<{ id: number; created_at: string }>(
      'SELECT id, created_at FROM spend_ledger WHERE user_id = ? ORDER BY id',
      [userId],
    );
    const today = lines[0].created_at.slice(0, 10);
    const dayBefore = new Date(Date.parse(lines[0].created_at) - 86_400_000).toISOString();
    for (const line of lines.slice(1)) await t.query('UPDATE spend_ledger SET created_at = ? WHERE id = ?', [dayBefore, line.id]);

    const report = (await request(t.baseUrl).get(`/users/${userId}/usage`).expect(200)).body;
    const chart = split({ text: 226, image: 774 });
    const page = split({ text: 84, document: 516 });
    const add = (...splits: ReturnType<typeof split>[]) =>
      Object.fromEntries(Object.keys(split({})).map((m) => [m, splits.reduce((s, x) => s + x[m as keyof typeof x], 0)]));

    expect(report).toMatchObject({
      turns: 3,
      prompt_tokens: 11_600,
      cached_tokens: 4_000,
      audio_prompt_tokens: 2_500,
      prompt_tokens_by_modality: add(mixedPrompt, chart, page),
      cached_tokens_by_modality: mixedCached,
    });
    expect(report).not.toHaveProperty('image_prompt_tokens');
    expect(report.by_model).toEqual([
      expect.objectContaining({
        model: AUDIO_PRICED,
        turns: 2,
        prompt_tokens_by_modality: add(mixedPrompt, page),
        cached_tokens_by_modality: mixedCached,
      }),
      expect.objectContaining({
        model: DEFAULTS.GEMINI_MODEL,
        turns: 1,
        prompt_tokens_by_modality: chart,
        cached_tokens_by_modality: split({}),
      }),
    ]);
    expect(report.by_day).toEqual([
      expect.objectContaining({
        day: dayBefore.slice(0, 10),
        turns: 2,
        prompt_tokens_by_modality: add(chart, page),
        cached_tokens_by_modality: split({}),
      }),
      expect.objectContaining({ day: today, turns: 1, prompt_tokens_by_modality: mixedPrompt, cached_tokens_by_modality: mixedCached }),
    ]);
    // Costs: the chart and the page at the input rate, on their own models.
    const liteRates = await ratesOf(t, DEFAULTS.GEMINI_MODEL);
    const flashRates = await ratesOf(t, AUDIO_PRICED);
    const costs = [3_290_000, 1_000 * liteRates.input + 10 * liteRates.output, 600 * flashRates.input + 20 * flashRates.output];
    expect(Math.round(report.total_cost_usd * 1e9)).toBe(costs[0] + costs[1] + costs[2]);
    expect(Math.round(report.by_day[0].total_cost_usd * 1e9)).toBe(costs[1] + costs[2]);
  });

  it('stores details that add up past the prompt as shares of it, audio first, and prices each prompt token once', async () => {
    const sessionId = await createSession(t, { user_id: 'overcounted', model: AUDIO_PRICED });
    t.emulator.enqueue({
      text: 'counted twice',
      usage: {
        promptTokenCount: 1_000,
        candidatesTokenCount: 0,
        thoughtsTokenCount: 0,
        promptTokensDetails: details({ IMAGE: 900, AUDIO: 300, TEXT: 50 }),
      },
    });
    const answer = await send(t, sessionId, 'count me').expect(201);
    expect(answer.body.model_message.usage).toMatchObject({
      prompt_tokens: 1_000,
      audio_prompt_tokens: 300,
      prompt_tokens_by_modality: split({ audio: 300, image: 700 }),
    });
    const r = await ratesOf(t, AUDIO_PRICED);
    expect(answer.body.model_message.cost_usd).toBe((700 * r.input + 300 * r.audio) / 1e9);
  });

  it('gives a refused call its split in the error body, and exports show it', async () => {
    const sessionId = await createSession(t, { user_id: 'exported' });
    t.emulator.enqueue(
      {
        empty: true,
        finishReason: 'SAFETY',
        usage: { promptTokenCount: 300, candidatesTokenCount: 0, thoughtsTokenCount: 0, promptTokensDetails: details({ IMAGE: 258 }) },
      },
      {
        text: 'A chart.',
        usage: {
          promptTokenCount: 1_290,
          candidatesTokenCount: 5,
          thoughtsTokenCount: 0,
          promptTokensDetails: details({ IMAGE: 1_032, DOCUMENT: 258 }),
        },
      },
    );
    const refused = await send(t, sessionId, 'blocked').expect(422);
    expect(refused.body.usage).toMatchObject({ prompt_tokens: 300, prompt_tokens_by_modality: split({ text: 42, image: 258 }) });

    await send(t, sessionId, 'what is in it?').expect(201);
    const json = (await request(t.baseUrl).get(`/sessions/${sessionId}/export`).expect(200)).body;
    expect(json.messages.at(-1).usage).toMatchObject({
      prompt_tokens_by_modality: split({ image: 1_032, document: 258 }),
      cached_tokens_by_modality: split({}),
    });
    const md = (await request(t.baseUrl).get(`/sessions/${sessionId}/export?format=markdown`).expect(200)).text;
    expect(md).toContain('prompt 1290 (image 1032, document 258), output 5');
  });
});
