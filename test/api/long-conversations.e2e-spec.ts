import request from 'supertest';
import { DEFAULTS } from '../../src/config/environment.js';
import { estimateTokens, GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { count, createSession, errorBody, historyRows, send } from '../support/http.js';
import { streamMessage } from '../support/sse.js';
import { startTestApp, useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

// The emulator counts a token per four characters: every message and reply here is 200
// characters, 50 tokens, so a turn (a message and its reply) weighs 100 tokens, and a prompt
// with j earlier turns weighs 100 j + 50.
const REPLY = 'r'.repeat(200);
const messageOf = (turn: number) => `message ${turn} `.padEnd(200, 'm');

interface Sent {
  texts: string[];
  systemInstruction: string | undefined;
}

/** What the last generate call carried to Gemini. */
function lastSent(t: TestApp): Sent {
  const body = t.emulator.generateRequests().at(-1)!.body;
  return { texts: body.contents.map((content: any) => content.parts[0].text), systemInstruction: body.systemInstruction?.parts[0].text };
}

async function session(t: TestApp, id: string) {
  return (await request(t.baseUrl).get(`/sessions/${id}`).expect(200)).body;
}

describe('Long conversations', () => {
  // Dozens of sessions and turns of one user a minute: the rate limit is not what is tested here.
  const t = useTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  beforeEach(() => t.emulator.setDefaultReply({ text: REPLY }));

  describe('truncation "auto"', () => {
    it('sends the most recent whole turns that fit, newest last, turn after turn, and stores everything', async () => {
      const sessionId = await createSession(t, { max_context_tokens: 400 });
      const ids: number[] = [];
      for (let turn = 1; turn <= 12; turn++) {
        const response = await send(t, sessionId, messageOf(turn)).expect(201);
        const { user_message: user, model_message: reply } = response.body;
        // As many earlier turns as fit in 400 tokens: 3 (350 tokens).
        const kept = Math.min(turn - 1, 3);
        const sent = lastSent(t);
        expect(reply.usage.prompt_tokens).toBe(100 * kept + 50);
        expect(reply.usage.prompt_tokens).toBeLessThanOrEqual(400);
        expect(sent.texts).toHaveLength(2 * kept + 1);
        expect(sent.texts.at(-1)).toBe(messageOf(turn));
        // Whole turns: a user message first, then alternating with the replies.
        sent.texts.slice(0, -1).forEach((text, i) => expect(text).toBe(i % 2 === 0 ? messageOf(turn - kept + i / 2) : REPLY));
        expect(reply.context).toEqual({
          messages: 2 * kept,
          first_message_id: kept === 0 ? null : ids[2 * (turn - 1 - kept)],
          truncated: kept < turn - 1,
        });
        ids.push(user.id, reply.id);
        // What the next turn starts from: this prompt and its reply.
        expect((await session(t, sessionId)).context_tokens).toBe(reply.usage.prompt_tokens + reply.usage.output_tokens);
      }
      // Nothing was deleted: the history holds all 24 messages, as stored.
      const history = (await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200)).body;
      expect(history.messages.map((message: any) => message.id)).toEqual(ids);
      expect(history.message_count).toBe(24);
    });

    it('keeps the system instruction in every prompt and counts it', async () => {
      // 100 characters: 25 tokens, so only two earlier turns fit in 300 (275).
      const instruction = 'Be brief. '.repeat(10);
      const sessionId = await createSession(t, { max_context_tokens: 300, system_instruction: instruction });
      for (let turn = 1; turn <= 5; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
      const sent = lastSent(t);
      expect(sent.systemInstruction).toBe(instruction);
      expect(sent.texts).toEqual([messageOf(3), REPLY, messageOf(4), REPLY, messageOf(5)]);
    });

    it('answers 422 CONTEXT_TOO_LONG when the instruction and the message alone are over the limit, nothing sent or stored', async () => {
      const sessionId = await createSession(t, { max_context_tokens: 40 });
      const response = await send(t, sessionId, messageOf(1)).expect(422);
      expect(response.body).toEqual(errorBody(422, 'CONTEXT_TOO_LONG'));
      expect(response.body.message).toContain('50 tokens, over the context limit of 40 tokens');
      expect(t.emulator.generateRequests()).toHaveLength(0);
      expect(await historyRows(t, sessionId)).toEqual([]);
    });
  });

  describe('after a turn whose counts Gemini did not report validly', () => {
    it.each([
      ['a short session (read whole)', 2],
      ['a long session (read through the cache)', 17],
    ])('still refuses what does not fit, in %s', async (_name, turns) => {
      const sessionId = await createSession(t);
      for (let turn = 1; turn < turns; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
      // The last turn's usage is not counts: stored unpriced, with no counts to size the context from.
      t.emulator.enqueue({ text: REPLY, usage: { promptTokenCount: 12, candidatesTokenCount: '7' as unknown as number } });
      await send(t, sessionId, messageOf(turns)).expect(201);
      expect((await session(t, sessionId)).context_tokens).toBeNull();

      // Room for the new message and a reply's worth: what a count of 0 for the last turn would have let through.
      await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ max_context_tokens: 220, truncation: 'disabled' }).expect(200);
      const refused = await send(t, sessionId, messageOf(turns + 1)).expect(422);
      expect(refused.body.code).toBe('CONTEXT_TOO_LONG');
      await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ truncation: 'auto' }).expect(200);
      const reply = (await send(t, sessionId, messageOf(turns + 1)).expect(201)).body.model_message;
      expect(reply.usage.prompt_tokens).toBe(150);
      expect(reply.context).toMatchObject({ messages: 2, truncated: true });
    });
  });

  describe('truncation "disabled"', () => {
    it('refuses the first turn that would not fit with 422 CONTEXT_TOO_LONG, naming the count and the limit; nothing sent or stored', async () => {
      const sessionId = await createSession(t, { user_id: 'strict', max_context_tokens: 300, truncation: 'disabled' });
      for (let turn = 1; turn <= 3; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
      const calls = t.emulator.generateRequests().length;
      const ledgerLines = await count(t, 'spend_ledger');

      const refused = await send(t, sessionId, messageOf(4)).expect(422);
      expect(refused.body).toEqual(errorBody(422, 'CONTEXT_TOO_LONG'));
      expect(refused.body.message).toContain('The prompt is 350 tokens, over the context limit of 300 tokens.');
      expect(refused.body.message).toContain('truncation');
      expect(t.emulator.generateRequests()).toHaveLength(calls);
      expect(await historyRows(t, sessionId)).toHaveLength(6);
      expect(await count(t, 'spend_ledger')).toBe(ledgerLines);
      expect(await session(t, sessionId)).toMatchObject({ message_count: 6, truncation: 'disabled', max_context_tokens: 300 });

      // Streamed, it is refused the same way, before the stream opens.
      const streamed = await streamMessage(t.baseUrl, sessionId, messageOf(4));
      expect(streamed.status).toBe(422);
      expect(JSON.parse(streamed.body).code).toBe('CONTEXT_TOO_LONG');

      // Turning truncation on lets the same turn through, without its oldest turn.
      await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ truncation: 'auto' }).expect(200);
      const response = await send(t, sessionId, messageOf(4)).expect(201);
      expect(response.body.model_message.context).toMatchObject({ messages: 4, truncated: true });
    });

    it('never refuses a turn that fits, exactly at the limit', async () => {
      const sessionId = await createSession(t, { max_context_tokens: 250, truncation: 'disabled' });
      for (let turn = 1; turn <= 3; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
      expect(lastSent(t).texts).toHaveLength(5);
    });
  });

  describe('POST /sessions/:id/estimate', () => {
    it("is the next turn's prompt as Gemini then counts it, priced at the session model's rates; nothing is generated or stored", async () => {
      const sessionId = await createSession(t, { system_instruction: 'Answer like a pirate, in a few words only.' });
      for (let turn = 1; turn <= 2; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
      const calls = t.emulator.generateRequests().length;

      const estimate = (
        await request(t.baseUrl)
          .post(`/sessions/${sessionId}/estimate`)
          .send({ message: messageOf(3) })
          .expect(200)
      ).body;
      expect(t.emulator.generateRequests()).toHaveLength(calls);
      expect(t.emulator.requests.at(-1)?.action).toBe('countTokens');
      expect(await historyRows(t, sessionId)).toHaveLength(4);

      const turn = (await send(t, sessionId, messageOf(3)).expect(201)).body;
      // gemini-3.5-flash-lite: $0.30 input, $2.50 output per 1M tokens; the output cap is 8,192.
      const prompt = turn.model_message.usage.prompt_tokens;
      expect(estimate).toEqual({
        session_id: sessionId,
        prompt_tokens: prompt,
        context_limit: 1_048_576,
        truncated: false,
        messages_in_context: 4,
        input_cost_usd: (prompt * 300) / 1e9,
        max_cost_usd: (prompt * 300 + 8_192 * 2_500) / 1e9,
      });
      expect(prompt).toBe(estimateTokens('Answer like a pirate, in a few words only.') + 250);
    });

    it('plans as the turn does: what truncation would leave out, and exactly what the turn then sends', async () => {
      const sessionId = await createSession(t, { max_context_tokens: 400 });
      for (let turn = 1; turn <= 6; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
      const estimate = (
        await request(t.baseUrl)
          .post(`/sessions/${sessionId}/estimate`)
          .send({ message: messageOf(7) })
          .expect(200)
      ).body;
      const turn = (await send(t, sessionId, messageOf(7)).expect(201)).body;
      expect(estimate).toMatchObject({ truncated: true, messages_in_context: 6, context_limit: 400, prompt_tokens: 350 });
      expect(turn.model_message.context).toMatchObject({ messages: estimate.messages_in_context, truncated: true });
      expect(turn.model_message.usage.prompt_tokens).toBe(estimate.prompt_tokens);
    });

    it('is 422 CONTEXT_TOO_LONG where the turn would be, and 404 for a session that is not there', async () => {
      const sessionId = await createSession(t, { max_context_tokens: 100, truncation: 'disabled' });
      await send(t, sessionId, messageOf(1)).expect(201);
      const refused = await request(t.baseUrl)
        .post(`/sessions/${sessionId}/estimate`)
        .send({ message: messageOf(2) })
        .expect(422);
      expect(refused.body.code).toBe('CONTEXT_TOO_LONG');
      await request(t.baseUrl).post('/sessions/00000000-0000-4000-8000-000000000000/estimate').send({ message: 'hi' }).expect(404);
      const invalid = await request(t.baseUrl).post(`/sessions/${sessionId}/estimate`).send({ message: '' }).expect(400);
      expect(invalid.body.message).toContain('message');
    });

    it('is null for the cost of a model without a price', async () => {
      const sessionId = await createSession(t, { model: 'gemini-experimental-x' });
      const estimate = (await request(t.baseUrl).post(`/sessions/${sessionId}/estimate`).send({ message: 'hello' }).expect(200)).body;
      expect(estimate).toMatchObject({ prompt_tokens: 2, context_limit: null, input_cost_usd: null, max_cost_usd: null });
    });
  });

  describe('max_context_tokens and truncation', () => {
    it('are set at creation, shown on the session, changed and cleared by PATCH', async () => {
      const sessionId = await createSession(t, { max_context_tokens: 8_000, truncation: 'disabled' });
      expect(await session(t, sessionId)).toMatchObject({
        max_context_tokens: 8_000,
        truncation: 'disabled',
        context_limit: 8_000,
        context_tokens: null,
      });
      const cleared = (
        await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ max_context_tokens: null, truncation: 'auto' }).expect(200)
      ).body;
      expect(cleared).toMatchObject({ max_context_tokens: null, truncation: 'auto', context_limit: 1_048_576 });
      // Beyond the model's input limit, the model's limit is the one in force.
      const capped = (await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ max_context_tokens: 5_000_000 }).expect(200)).body;
      expect(capped).toMatchObject({ max_context_tokens: 5_000_000, context_limit: 1_048_576 });
      expect(await session(t, sessionId)).toMatchObject({ max_context_tokens: 5_000_000, truncation: 'auto' });
    });

    it.each([
      ['max_context_tokens', 0],
      ['max_context_tokens', -5],
      ['max_context_tokens', 1.5],
      ['max_context_tokens', '100'],
      ['max_context_tokens', 2 ** 31],
      ['truncation', 'sometimes'],
      ['truncation', null],
    ])('refuses %s = %j with 400 naming the field, on POST and on PATCH', async (field, value) => {
      const created = await request(t.baseUrl)
        .post('/sessions')
        .send({ [field]: value })
        .expect(400);
      expect(created.body.message).toContain(field);
      const sessionId = await createSession(t);
      const patched = await request(t.baseUrl)
        .patch(`/sessions/${sessionId}`)
        .send({ [field]: value })
        .expect(400);
      expect(patched.body.message).toContain(field);
      expect(await session(t, sessionId)).toMatchObject({ max_context_tokens: null, truncation: 'auto' });
    });
  });
});

describe("Gemini's own context limit", () => {
  // Gemini enforces 300 tokens on the default model, while the table says 1,048,576: the service
  // sends the whole history, and learns the real limit from Gemini's 400.
  const emulator = new GeminiEmulator({ recordRequests: true, inputTokenLimits: { [DEFAULTS.GEMINI_MODEL]: 300 } });
  const t = useTestApp({ emulator });
  beforeEach(() => t.emulator.setDefaultReply({ text: REPLY }));

  it('is recovered from with one more call, counted to fit the limit Gemini named (auto)', async () => {
    const sessionId = await createSession(t);
    for (let turn = 1; turn <= 3; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
    const before = t.emulator.generateRequests().length;

    const response = await send(t, sessionId, messageOf(4)).expect(201);
    const calls = t.emulator.generateRequests().slice(before);
    // The whole history (350 tokens) was refused; two earlier turns (250) were answered.
    expect(calls.map((call) => call.body.contents.length)).toEqual([7, 5]);
    expect(response.body.model_message.usage.prompt_tokens).toBe(250);
    expect(response.body.model_message.context).toMatchObject({ messages: 4, truncated: true });
    expect(await historyRows(t, sessionId)).toHaveLength(8);
  });

  it('is recovered from in a streamed turn too, before the stream opens', async () => {
    const sessionId = await createSession(t);
    for (let turn = 1; turn <= 3; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
    const streamed = await streamMessage(t.baseUrl, sessionId, messageOf(4));
    expect(streamed.status).toBe(200);
    const done = streamed.events.find((event) => event.event === 'done');
    expect(done?.data.model_message.context).toMatchObject({ messages: 4, truncated: true });
    expect(streamed.events.filter((event) => event.event === 'error')).toEqual([]);
  });

  it('is 422 CONTEXT_TOO_LONG, never 502, when truncation is disabled; nothing stored', async () => {
    const sessionId = await createSession(t, { truncation: 'disabled' });
    for (let turn = 1; turn <= 3; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
    const refused = await send(t, sessionId, messageOf(4)).expect(422);
    expect(refused.body).toEqual(errorBody(422, 'CONTEXT_TOO_LONG'));
    expect(refused.body.message).toContain('350 tokens, over the context limit of 300 tokens');
    expect(await historyRows(t, sessionId)).toHaveLength(6);
  });

  it('is 422 CONTEXT_TOO_LONG when Gemini refuses the retry too', async () => {
    const sessionId = await createSession(t);
    await send(t, sessionId, messageOf(1)).expect(201);
    // Gemini refuses both calls of the turn, whatever they carry.
    const refusal = { status: 400, errorMessage: 'The input token count (151) exceeds the maximum number of tokens allowed (100).' };
    t.emulator.enqueue(refusal, refusal);
    const refused = await send(t, sessionId, messageOf(2)).expect(422);
    expect(refused.body.code).toBe('CONTEXT_TOO_LONG');
    expect(
      t.emulator
        .generateRequests()
        .slice(-2)
        .map((call) => call.body.contents.length),
    ).toEqual([3, 1]);
    expect(await historyRows(t, sessionId)).toHaveLength(2);
  });
});

describe('What a price rests on', () => {
  const t = useTestApp();

  it.each([
    ['priced: the model answered as itself', 'gemini-2.5-flash', undefined, 'priced', 'gemini-2.5-flash', 10 * 300 + 4 * 2_500],
    [
      'priced: rerouted to a model with a price, at its rates',
      'gemini-2.5-flash',
      'gemini-3.8-flash',
      'priced',
      'gemini-3.8-flash',
      10 * 750 + 4 * 3_750,
    ],
    [
      "estimated: rerouted to a model without a price, at the requested one's rates",
      'gemini-2.5-flash',
      'gemini-3.9-flash-preview',
      'estimated',
      'gemini-2.5-flash',
      10 * 300 + 4 * 2_500,
    ],
    ['unpriced: neither has a price', 'gemini-experimental-x', 'gemini-experimental-y', 'unpriced', null, null],
  ])('%s', async (_name, model, modelVersion, status, pricedAs, nano) => {
    const userId = `price-${status}-${modelVersion ?? 'self'}`;
    const sessionId = await createSession(t, { user_id: userId, model });
    t.emulator.enqueue({ text: 'ok', modelVersion, usage: { promptTokenCount: 10, candidatesTokenCount: 4, thoughtsTokenCount: 0 } });
    const reply = (await send(t, sessionId, 'price me').expect(201)).body.model_message;
    expect(reply).toMatchObject({
      model: modelVersion ?? model,
      cost_status: status,
      priced_as: pricedAs,
      cost_usd: nano === null ? null : nano / 1e9,
    });
    const [line] = await t.query('SELECT cost_status, priced_as, cost_nano_usd FROM spend_ledger WHERE user_id = ?', [userId]);
    expect(line).toEqual({ cost_status: status, priced_as: pricedAs, cost_nano_usd: nano });
    const history = (await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200)).body;
    expect(history.messages[1]).toMatchObject({ cost_status: status, priced_as: pricedAs });
    const usage = (await request(t.baseUrl).get(`/users/${userId}/usage`).expect(200)).body;
    expect(usage).toMatchObject({
      turns: 1,
      estimated_turns: status === 'estimated' ? 1 : 0,
      unpriced_turns: status === 'unpriced' ? 1 : 0,
    });
  });
});

describe('A model whose table entry lacks a rate', () => {
  const t = useTestApp({ env: { USER_DAILY_BUDGET_USD: '1' } });

  it('cannot be used under a daily budget (422 MODEL_UNPRICED): its turns could not always be priced', async () => {
    // gemini-3.6-flash publishes no cached rate.
    const sessionId = await createSession(t, { model: 'gemini-3.6-flash' });
    const refused = await send(t, sessionId, 'hello').expect(422);
    expect(refused.body.code).toBe('MODEL_UNPRICED');
    expect(t.emulator.generateRequests()).toHaveLength(0);
  });

  it("is priced at the requested model's rates when a rerouted turn needs the rate it lacks", async () => {
    const sessionId = await createSession(t, { model: 'gemini-3.5-flash' });
    t.emulator.enqueue({
      text: 'ok',
      modelVersion: 'gemini-3.6-flash',
      usage: { promptTokenCount: 1_000, cachedContentTokenCount: 500, candidatesTokenCount: 10, thoughtsTokenCount: 0 },
    });
    const reply = (await send(t, sessionId, 'hello').expect(201)).body.model_message;
    // gemini-3.5-flash: $1.50 input, $0.15 cached, $9.00 output per 1M tokens.
    expect(reply).toMatchObject({
      model: 'gemini-3.6-flash',
      cost_status: 'estimated',
      priced_as: 'gemini-3.5-flash',
      cost_usd: (500 * 1_500 + 500 * 150 + 10 * 9_000) / 1e9,
    });
  });
});

describe('A turn against a table whose model has no known limit', () => {
  it('sends the whole history and never counts', async () => {
    const t = await startTestApp();
    try {
      const sessionId = await createSession(t, { model: 'gemini-experimental-x' });
      for (let turn = 1; turn <= 3; turn++) await send(t, sessionId, messageOf(turn)).expect(201);
      expect(t.emulator.requests.filter((call) => call.action === 'countTokens')).toEqual([]);
      expect(t.emulator.generateRequests().at(-1)!.body.contents).toHaveLength(5);
    } finally {
      await t.close();
    }
  });
});
