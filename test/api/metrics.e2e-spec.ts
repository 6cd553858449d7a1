import request from 'supertest';
import { createSession, errorBody, send } from '../support/http.js';
import { scrape } from '../support/metrics.js';
import { streamMessage } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/**
 * GET /metrics (API.md "Operations"): what an operator scrapes. Every figure that is money is
 * checked against the spend ledger and the usage report, which are the books.
 */
const TOKEN = 'metrics-token-for-the-scraper';
const MODEL = 'gemini-3.5-flash-lite';
// 1,000 prompt and 5,000 output tokens at 300 and 2,500 nano-dollars: $0.0128, over the $0.01 budget.
const EXPENSIVE = { promptTokenCount: 1_000, candidatesTokenCount: 5_000 };

/** The ledger grouped as the spend metrics are: lines and nano-dollars by model and cost status. */
async function ledgerSpend(t: TestApp) {
  const rows = await t.query(
    'SELECT model, cost_status, COUNT(*) AS calls, SUM(cost_nano_usd) AS cost FROM spend_ledger GROUP BY model, cost_status',
  );
  return rows.map((row) => ({
    model: row.model as string,
    costStatus: row.cost_status as string,
    calls: Number(row.calls),
    cost: Number(row.cost ?? 0),
  }));
}

/** The ledger's tokens by model and class, as the token metric names the classes. */
async function ledgerTokens(t: TestApp) {
  const rows = await t.query(
    `SELECT model, SUM(prompt_tokens) AS prompt, SUM(cached_tokens) AS cached, SUM(output_tokens) AS output,
            SUM(thoughts_tokens) AS thoughts, SUM(tool_prompt_tokens) AS tool_prompt
       FROM spend_ledger GROUP BY model`,
  );
  return rows.map(({ model, ...classes }) => ({
    model: model as string,
    classes: Object.fromEntries(Object.entries(classes).map(([name, sum]) => [name, Number(sum)])),
  }));
}

describe('GET /metrics', () => {
  const t = useTestApp({
    env: {
      METRICS_ENABLED: 'true',
      METRICS_TOKEN: TOKEN,
      USER_DAILY_BUDGET_USD: '0.01',
      RATE_LIMIT_PER_MINUTE: '8',
      GEMINI_RETRIES: '0',
    },
  });

  it('counts turns by outcome, and its paid calls, spend and tokens are the ledger and the usage report', async () => {
    const reader = await createSession(t, { user_id: 'reader' });
    t.emulator.enqueue({
      usage: { promptTokenCount: 500, cachedContentTokenCount: 300, candidatesTokenCount: 20, toolUsePromptTokenCount: 7 },
    });
    await send(t, reader, 'first').expect(201);
    await send(t, reader, 'second').expect(201);
    expect((await streamMessage(t.baseUrl, reader, 'third, streamed')).status).toBe(200);

    // Gemini fails (502) or refuses for quota (429 upstream): counted by outcome, nothing paid.
    t.emulator.enqueue({ status: 500 }, { status: 429 });
    expect((await send(t, reader, 'upstream fails')).body.code).toBe('UPSTREAM_ERROR');
    expect((await send(t, reader, 'upstream is busy')).body.code).toBe('UPSTREAM_RATE_LIMITED');

    // Thinking that ran into the cap: refused (422), and paid for.
    t.emulator.enqueue({ empty: true, usage: { promptTokenCount: 200, candidatesTokenCount: 0, thoughtsTokenCount: 800 } });
    const blocked = await createSession(t, { user_id: 'thinker' });
    expect((await send(t, blocked, 'think')).body.code).toBe('CONTENT_BLOCKED');

    // The budget: one expensive turn spends it, the next is refused before any call.
    const spender = await createSession(t, { user_id: 'spender' });
    t.emulator.enqueue({ usage: EXPENSIVE });
    await send(t, spender, 'an expensive one').expect(201);
    expect((await send(t, spender, 'one more')).body.code).toBe('BUDGET_EXCEEDED');

    // The context limit.
    const small = await createSession(t, { user_id: 'reader', max_context_tokens: 10 });
    expect((await send(t, small, 'a message that is far too long for a context limit of ten tokens')).body.code).toBe('CONTEXT_TOO_LONG');

    // The rate limit: the session's creation and seven turns are the eight of the minute.
    const hasty = await createSession(t, { user_id: 'hasty' });
    for (let turn = 0; turn < 7; turn++) await send(t, hasty, `quick ${turn}`).expect(201);
    const limited = await send(t, hasty, 'one too many').expect(429);
    expect(limited.body).toEqual(errorBody(429, 'RATE_LIMITED'));

    const metrics = await scrape(t, TOKEN);

    const byOutcome = Object.fromEntries(
      metrics.samples('gemini_chat_turns_total').map(({ labels, value }) => [`${labels.outcome}/${labels.streamed}`, value]),
    );
    expect(byOutcome).toEqual({
      'answered/false': 2 + 1 + 7,
      'answered/true': 1,
      'UPSTREAM_ERROR/false': 1,
      'UPSTREAM_RATE_LIMITED/false': 1,
      'CONTENT_BLOCKED/false': 1,
      'BUDGET_EXCEEDED/false': 1,
      'CONTEXT_TOO_LONG/false': 1,
      'RATE_LIMITED/false': 1,
    });
    // Every turn is timed; answered ones ended with Gemini's finish reason.
    expect(metrics.sum('gemini_chat_turn_duration_seconds_count')).toBe(17);
    expect(metrics.sum('gemini_chat_turns_total', { outcome: 'answered', finish_reason: 'STOP', model: MODEL })).toBe(11);

    // The books: paid calls and spend by model and cost status, tokens by model and class.
    const spend = await ledgerSpend(t);
    expect(spend.reduce((calls, row) => calls + row.calls, 0)).toBe(12); // 11 answered + the thinking one
    for (const row of spend) {
      const labels = { model: row.model, cost_status: row.costStatus };
      expect(metrics.sum('gemini_chat_paid_calls_total', labels)).toBe(row.calls);
      expect(metrics.sum('gemini_chat_cost_nano_usd_total', labels)).toBe(row.cost);
    }
    const tokens = await ledgerTokens(t);
    expect(tokens.map((row) => row.model)).toEqual([MODEL]);
    expect(tokens[0].classes).toMatchObject({ cached: 300, tool_prompt: 7 });
    for (const [tokenClass, sum] of Object.entries(tokens[0].classes)) {
      expect([tokenClass, metrics.sum('gemini_chat_tokens_total', { model: MODEL, class: tokenClass })]).toEqual([tokenClass, sum]);
    }
    expect(metrics.sum('gemini_chat_spend_unrecorded_total')).toBe(0);

    // What the usage report says, user by user, adds up to the same calls and dollars.
    let reportedTurns = 0;
    let reportedUsd = 0;
    for (const user of ['reader', 'thinker', 'spender', 'hasty']) {
      const report = (await request(t.baseUrl).get(`/users/${user}/usage`).expect(200)).body;
      reportedTurns += report.turns;
      reportedUsd += report.total_cost_usd;
    }
    expect(metrics.sum('gemini_chat_paid_calls_total')).toBe(reportedTurns);
    expect(metrics.sum('gemini_chat_cost_nano_usd_total') / 1e9).toBeCloseTo(reportedUsd, 9);

    // Upstream: one attempt per call made (refusals before the call make none), errors by Gemini's status.
    expect(metrics.sum('gemini_chat_upstream_duration_seconds_count', { method: 'generateContent' })).toBe(13);
    expect(metrics.sum('gemini_chat_upstream_duration_seconds_count', { method: 'streamGenerateContent' })).toBe(1);
    expect(metrics.samples('gemini_chat_upstream_errors_total')).toEqual(
      expect.arrayContaining([
        { labels: { method: 'generateContent', status: '500', code: 'UPSTREAM_ERROR' }, value: 1 },
        { labels: { method: 'generateContent', status: '429', code: 'UPSTREAM_RATE_LIMITED' }, value: 1 },
      ]),
    );
    expect(metrics.sum('gemini_chat_time_to_first_delta_seconds_count')).toBe(1);

    // Refusals by code, as their clients got them.
    for (const [code, status] of [
      ['RATE_LIMITED', '429'],
      ['BUDGET_EXCEEDED', '429'],
      ['CONTEXT_TOO_LONG', '422'],
      ['CONTENT_BLOCKED', '422'],
      ['UPSTREAM_ERROR', '502'],
    ]) {
      expect(metrics.sum('gemini_chat_refusals_total', { code, status })).toBe(1);
    }
    expect(metrics.sum('gemini_chat_http_requests_total', { method: 'POST', route: '/sessions/:session_id/messages', status: '201' })).toBe(
      2 + 1 + 7,
    );
    // PostgreSQL's pool, by state (SQLite has one connection and no pool).
    const pool = metrics.samples('gemini_chat_database_connections').map(({ labels }) => labels.state);
    expect(pool.sort()).toEqual(t.settings.database.kind === 'postgres' ? ['idle', 'in_use', 'waiting'] : []);
    // Process figures and the event loop's delay come with it.
    expect(metrics.samples('nodejs_eventloop_lag_p99_seconds')).toHaveLength(1);
    expect(metrics.samples('process_resident_memory_bytes')).toHaveLength(1);
  });

  it('never names a series after what Gemini says: any model name it answers with is `other`', async () => {
    const sessionId = await createSession(t, { user_id: 'hostile' });
    await send(t, sessionId, 'warm up').expect(201);
    const before = await scrape(t, TOKEN);
    for (let turn = 0; turn < 5; turn++) {
      t.emulator.enqueue({ modelVersion: `gemini-made-up-${turn}` });
      await send(t, sessionId, `turn ${turn}`).expect(201);
    }
    t.emulator.enqueue({ finishReason: 'A_REASON_NO_ONE_KNOWS' });
    await send(t, sessionId, 'odd ending').expect(201);

    const after = await scrape(t, TOKEN);
    // Every series of every metric that has a model label: the table's model or `other`, nothing else.
    const models = new Set(after.all().flatMap(({ labels }) => (labels.model === undefined ? [] : [labels.model])));
    expect(models).toEqual(new Set([MODEL, 'other']));
    expect(after.sum('gemini_chat_paid_calls_total', { model: 'other' })).toBe(5);
    expect(after.sum('gemini_chat_turns_total', { finish_reason: 'other' })).toBe(1);
    // Six more turns added the `other` series (a histogram is many samples), not a series per name.
    const grownBy = after.serviceSampleCount() - before.serviceSampleCount();
    const another = await createSession(t, { user_id: 'hostile-again' }); // a minute's turns of its own
    for (let turn = 0; turn < 5; turn++) {
      t.emulator.enqueue({ modelVersion: `gemini-made-up-again-${turn}` });
      await send(t, another, `again ${turn}`).expect(201);
    }
    expect((await scrape(t, TOKEN)).serviceSampleCount()).toBe(after.serviceSampleCount());
    expect(grownBy).toBeGreaterThan(0);
  });

  it('shows a streamed turn as an open stream while it is written', async () => {
    const sessionId = await createSession(t, { user_id: 'streamer' });
    t.emulator.enqueue({ text: 'a slow reply in many words', chunkDelayMs: 400 });
    const streaming = streamMessage(t.baseUrl, sessionId, 'go slowly');
    await waitFor('the stream to show', async () => (await scrape(t, TOKEN)).sum('gemini_chat_streams_open') === 1);
    expect((await streaming).status).toBe(200);
    expect((await scrape(t, TOKEN)).sum('gemini_chat_streams_open')).toBe(0);
  });

  it('asks for METRICS_TOKEN as a bearer token: 401 without it or with another', async () => {
    const without = await request(t.baseUrl).get('/metrics').expect(401);
    expect(without.body).toEqual(errorBody(401, 'UNAUTHORIZED'));
    expect(without.headers['www-authenticate']).toBe('Bearer');
    await request(t.baseUrl).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
    await request(t.baseUrl).get('/metrics').set('Authorization', TOKEN).expect(401);
    // The scheme is case-insensitive (RFC 7235).
    await request(t.baseUrl).get('/metrics').set('Authorization', `bearer ${TOKEN}`).expect(200);
  });

  it('is read by a scraper that addresses the instance by any Host, since it holds the token', async () => {
    await request(t.baseUrl).get('/metrics').set('Host', '10.1.2.3:9100').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    // Everything else still answers only the loopback names in open mode.
    await request(t.baseUrl).get('/models').set('Host', '10.1.2.3:9100').expect(403);
  });
});

describe('GET /metrics, not enabled', () => {
  const t = useTestApp();

  it('is 404 like any unknown route', async () => {
    const response = await request(t.baseUrl).get('/metrics').expect(404);
    expect(response.body).toEqual(errorBody(404, 'ROUTE_NOT_FOUND'));
  });
});
