import request from 'supertest';
import { count, createSession, historyRows } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const TOO_MANY = {
  statusCode: 400,
  error: 'Bad Request',
  code: 'VALIDATION_FAILED',
  message: 'The request body has more than 1,000 fields and array items; no request of this API has more than a few dozen.',
};

/** Far above what refusing from one pass over the bytes takes on a busy machine (a few ms), far under parsing and validating them. */
const QUICKLY_MS = 1_000;

const fields = (n: number, prefix = 'f') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));

/**
 * Refusing stays cheap: a body is counted (object members and array items, at every depth) as
 * its bytes arrive, and one with more than any request needs is refused before JSON.parse runs.
 */
describe('Bodies that would cost more to read than any request needs', () => {
  const t = useTestApp();

  const post = async (path: string, text: string | Buffer, contentType = 'application/json') => {
    const started = Date.now();
    const response = await request(t.baseUrl).post(path).set('Content-Type', contentType).send(text);
    return { response, ms: Date.now() - started };
  };

  it('refuses 60,000 unknown fields (about 900 KB) unparsed: 400 at once with a short body', async () => {
    const text = JSON.stringify({ user_id: 'flooder', ...fields(60_000) });
    expect(text.length).toBeGreaterThan(850_000);
    const { response, ms } = await post('/sessions', text);
    expect(response.status).toBe(400);
    expect(response.body).toEqual(TOO_MANY);
    expect(response.text.length).toBeLessThan(200);
    expect(ms).toBeLessThan(QUICKLY_MS);
    expect(await t.query("SELECT user_id FROM users WHERE user_id = 'flooder'")).toEqual([]);
  });

  it.each([
    ['440,000 array items', JSON.stringify(Array(440_000).fill(0))],
    ['440,000 array items in a known field', JSON.stringify({ title: Array(440_000).fill(0) })],
    ['500,000 nested arrays', `{"title":${'['.repeat(500_000)}${']'.repeat(500_000)}}`],
  ])('refuses %s unparsed, at once (parsing and validating them took seconds)', async (_name, text) => {
    const sessions = await count(t, 'chat_sessions');
    const { response, ms } = await post('/sessions', text);
    expect(response.status).toBe(400);
    expect(response.body).toEqual(TOO_MANY);
    expect(ms).toBeLessThan(QUICKLY_MS);
    expect(await count(t, 'chat_sessions')).toBe(sessions);
  });

  it('counts at every depth: 1,000 fields in all are read and validated, 1,001 are refused unparsed', async () => {
    const read = await post('/sessions', JSON.stringify({ user_id: 'edge', extra: fields(998) }));
    expect(read.response.status).toBe(400);
    expect(read.response.body.message).toBe('extra: unknown field');
    const refused = await post('/sessions', JSON.stringify({ user_id: 'edge', extra: fields(999) }));
    expect(refused.response.status).toBe(400);
    expect(refused.response.body).toEqual(TOO_MANY);
  });

  it('still takes text full of colons, commas, brackets, braces, quotes and backslashes', async () => {
    const tricky = '{"a": [1, 2], "b": {"c": "d\\"e\\\\"}}, [[]], {}: \'x\', ';
    const instruction = tricky.repeat(100);
    const sessionId = await createSession(t, { title: tricky, system_instruction: instruction });
    const message = tricky.repeat(500);
    const turn = await post(`/sessions/${sessionId}/messages`, JSON.stringify({ message }));
    expect(turn.response.status).toBe(201);
    expect((await historyRows(t, sessionId)).map((row) => row.content)).toEqual([message, turn.response.body.reply]);
    expect(turn.response.body.reply).toContain(tricky);
    const session = await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200);
    expect(session.body).toMatchObject({ title: tricky, system_instruction: instruction });
    expect(t.emulator.generateRequests()).toHaveLength(1);
  });

  it('takes UTF-8 JSON only: another charset is 415, unparsed (its bytes would not count alike)', async () => {
    const text = JSON.stringify({ title: 'utf-16' });
    const sessions = await count(t, 'chat_sessions');
    const utf16 = await post('/sessions', Buffer.from(text, 'utf16le'), 'application/json; charset=utf-16le');
    expect(utf16.response.status).toBe(415);
    expect(utf16.response.body).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'JSON bodies are UTF-8: send Content-Type: application/json without a charset, or with charset=utf-8.',
    });
    expect(await count(t, 'chat_sessions')).toBe(sessions);
    const utf8 = await post('/sessions', text, 'application/json; charset=UTF-8');
    expect(utf8.response.status).toBe(201);
  });
});
