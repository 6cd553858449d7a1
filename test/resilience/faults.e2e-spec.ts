import request from 'supertest';
import { createSession, errorBody, historyRows, send } from '../support/http.js';
import { streamMessage } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/** Upstream faults with the default retry policy (GEMINI_RETRIES=2) and a short deadline. */
describe('Upstream faults', () => {
  const t = useTestApp({ env: { GEMINI_TIMEOUT_MS: '1500' } });

  it('answers 504 at the deadline and aborts the upstream call', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ delayMs: 10_000 });
    const started = Date.now();
    const response = await send(t, sessionId, 'slow').expect(504);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(response.body).toEqual(errorBody(504, 'UPSTREAM_TIMEOUT'));
    // The emulator saw the service hang up instead of waiting for the answer.
    const [upstream] = await waitFor('the emulator to see the service hang up', () => t.emulator.generateRequests(), {
      until: ([r]) => r?.clientGone === true,
    });
    expect(upstream.clientGone).toBe(true);
    expect(await historyRows(t, sessionId)).toEqual([]);
  });

  it.each([
    ['429', { status: 429 }],
    ['503', { status: 503 }],
  ])('retries a %s and stores one turn when the retry succeeds', async (_name, failure) => {
    const sessionId = await createSession(t);
    t.emulator.enqueue(failure, { text: 'second time lucky' });
    const response = await send(t, sessionId, 'retry me').expect(201);
    expect(response.body.reply).toBe('second time lucky');
    expect(t.emulator.generateRequests()).toHaveLength(2);
    const rows = await historyRows(t, sessionId);
    expect(rows.map((r) => r.content)).toEqual(['retry me', 'second time lucky']);
  });

  it('gives up after GEMINI_RETRIES: a 429 that persists is 503 with Retry-After', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ status: 429 }, { status: 429 }, { status: 429 }, { text: 'never reached' });
    const response = await send(t, sessionId, 'busy').expect(503);
    expect(response.body).toEqual(errorBody(503, 'UPSTREAM_RATE_LIMITED'));
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(t.emulator.generateRequests()).toHaveLength(3);
    expect(await historyRows(t, sessionId)).toEqual([]);
  });

  it('does not retry when Gemini asks for a wait longer than the deadline allows, and passes the wait on', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ status: 429, retryAfterSeconds: 37 }, { text: 'too early' });
    const started = Date.now();
    const response = await send(t, sessionId, 'quota').expect(503);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(response.headers['retry-after']).toBe('37');
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  it('waits as long as Gemini asks when the deadline allows', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ status: 429, retryAfterSeconds: 1 }, { text: 'after the wait' });
    const started = Date.now();
    await send(t, sessionId, 'patient').expect(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(t.emulator.generateRequests()).toHaveLength(2);
  });

  it('does not retry other failures (a 500 may have reached the model)', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ status: 500 }, { text: 'not reached' });
    await send(t, sessionId, 'x').expect(502);
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  it.each([
    ['a malformed reply', { malformed: true }],
    ['a reply cut mid-body', { breakAfterChunks: 0 }],
  ])('answers 502 for %s and stores nothing', async (_name, reply) => {
    const sessionId = await createSession(t);
    t.emulator.enqueue(reply);
    const response = await send(t, sessionId, 'x').expect(502);
    expect(response.body.code).toBe('UPSTREAM_ERROR');
    expect(await historyRows(t, sessionId)).toEqual([]);
  });

  it('never retries a stream once text reached the client', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ text: 'one two three four five six', streamErrorAfterChunks: 1, status: 503 }, { text: 'duplicate' });
    const result = await streamMessage(t.baseUrl, sessionId, 'stream');
    expect(result.events.map((e) => e.event)).toEqual(['turn', 'delta', 'error']);
    expect(t.emulator.generateRequests()).toHaveLength(1);
    expect(await historyRows(t, sessionId)).toEqual([]);
  });

  it('retries a stream refused before its first chunk', async () => {
    const sessionId = await createSession(t);
    t.emulator.enqueue({ status: 503 }, { text: 'streamed after a retry' });
    const result = await streamMessage(t.baseUrl, sessionId, 'stream');
    expect(result.events.at(-1)!.event).toBe('done');
    expect(
      result.events
        .filter((e) => e.event === 'delta')
        .map((e) => e.data.text)
        .join(''),
    ).toBe('streamed after a retry');
    expect(t.emulator.generateRequests()).toHaveLength(2);
  });

  it('names the retired model and GEMINI_MODEL', async () => {
    const sessionId = await createSession(t, { model: 'gemini-retired-1.0' });
    const response = await send(t, sessionId, 'x').expect(502);
    expect(response.body.message).toMatch(/gemini-retired-1\.0.*GEMINI_MODEL/);
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  it('answers 413 JSON for a body over 1 MiB and always sends maxOutputTokens', async () => {
    const sessionId = await createSession(t);
    const big = await request(t.baseUrl)
      .post(`/sessions/${sessionId}/messages`)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ message: 'x'.repeat(1024 * 1024 + 10) }))
      .expect(413);
    expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
    await send(t, sessionId, 'cap').expect(201);
    expect(t.emulator.generateRequests()[0].body.generationConfig.maxOutputTokens).toBe(8192);
  });
});
