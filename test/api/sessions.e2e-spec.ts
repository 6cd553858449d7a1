import { marked } from 'marked';
import type { Token, Tokens } from 'marked';
import request from 'supertest';
import { createSession, errorBody, historyRows, send } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

describe('Sessions: paging, management, usage, export', () => {
  // Hundreds of sessions of one user within a minute: the rate limit is not what is tested here.
  const t = useTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });

  /** Follows next_cursor to the end; returns every page. */
  async function allPages(path: string, limit: number): Promise<{ data: any[]; has_more: boolean; next_cursor: string | null }[]> {
    const pages = [];
    let after: string | null = null;
    do {
      const query: Record<string, string | number> = { limit };
      if (after !== null) query.after = after;
      const page = (await request(t.baseUrl).get(path).query(query).expect(200)).body;
      pages.push(page);
      after = page.next_cursor;
      expect(page.has_more).toBe(after !== null);
    } while (after !== null && pages.length < 1000);
    return pages;
  }

  describe('GET /sessions', () => {
    async function userWithSessions(userId: string, n: number): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(await createSession(t, { user_id: userId, title: `s${i}` }));
      return ids.reverse(); // newest first
    }

    it.each([
      [0, 5, [0]],
      [1, 5, [1]],
      [5, 5, [5]],
      [6, 5, [5, 1]],
    ])('pages %d sessions with limit %d into pages of %j', async (n, limit, sizes) => {
      const userId = `pager-${n}-${limit}`;
      const expected = await userWithSessions(userId, n);
      const pages = await allPages(`/sessions?user_id=${userId}`, limit);
      expect(pages.map((p) => p.data.length)).toEqual(sizes);
      expect(pages.flatMap((p) => p.data.map((s: { session_id: string }) => s.session_id))).toEqual(expected);
      expect(pages.at(-1)).toMatchObject({ has_more: false, next_cursor: null });
    });

    it('walks 250 sessions newest first without skipping or repeating one', async () => {
      const expected = await userWithSessions('many', 250);
      const pages = await allPages('/sessions?user_id=many', 100);
      expect(pages.map((p) => p.data.length)).toEqual([100, 100, 50]);
      const seen = pages.flatMap((p) => p.data.map((s: { session_id: string }) => s.session_id));
      expect(new Set(seen).size).toBe(250);
      expect(seen).toEqual(expected);
      const first = pages[0].data[0];
      expect(first).toMatchObject({ user_id: 'many', title: 's249', message_count: 0, total_cost_usd: 0 });
    });

    it("carries each session's totals", async () => {
      const sessionId = await createSession(t, { user_id: 'totals' });
      await send(t, sessionId, 'hello').expect(201);
      const page = (await request(t.baseUrl).get('/sessions').query({ user_id: 'totals' }).expect(200)).body;
      const direct = (await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200)).body;
      expect(page.data).toEqual([direct]);
      expect(direct.message_count).toBe(2);
    });

    it.each([
      ['limit=0', { user_id: 'x', limit: 0 }, 'limit'],
      ['limit=101', { user_id: 'x', limit: 101 }, 'limit'],
      ['limit=abc', { user_id: 'x', limit: 'abc' }, 'limit'],
      ['a forged cursor', { user_id: 'x', after: 'bm90LWEtY3Vyc29y' }, 'after'],
      ['no user_id', {}, 'user_id'],
    ])('refuses %s with 400', async (_name, query, field) => {
      const response = await request(t.baseUrl).get('/sessions').query(query).expect(400);
      expect(response.body).toEqual(errorBody(400, 'VALIDATION_FAILED'));
      expect(response.body.message).toContain(field);
    });
  });

  describe('GET /sessions/:id/messages', () => {
    /** Writes n stored messages straight into the database (the route under test only reads). */
    async function sessionWithMessages(n: number): Promise<string> {
      const sessionId = await createSession(t);
      for (let i = 0; i < n; i++) {
        await t.query('INSERT INTO chat_history (chat_id, timestamp, role, content) VALUES (?, ?, ?, ?)', [
          sessionId,
          new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
          i % 2 ? 'model' : 'user',
          `m${i}`,
        ]);
      }
      return sessionId;
    }

    it.each([
      [0, 50, [0]],
      [1, 50, [1]],
      [50, 50, [50]],
      [51, 50, [50, 1]],
      [250, 100, [100, 100, 50]],
    ])('pages %d messages with limit %d into pages of %j, in order, none skipped or repeated', async (n, limit, sizes) => {
      const sessionId = await sessionWithMessages(n);
      const pages = await allPages(`/sessions/${sessionId}/messages`, limit);
      expect(pages.map((p) => p.data.length)).toEqual(sizes);
      const contents = pages.flatMap((p) => p.data.map((m: { content: string }) => m.content));
      expect(contents).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
      const ids = pages.flatMap((p) => p.data.map((m: { id: number }) => m.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    });

    it('uses 50 as the default page size and refuses a bad cursor', async () => {
      const sessionId = await sessionWithMessages(60);
      const page = (await request(t.baseUrl).get(`/sessions/${sessionId}/messages`).expect(200)).body;
      expect(page.data).toHaveLength(50);
      expect(page.next_cursor).toBe(String(page.data[49].id));
      await request(t.baseUrl).get(`/sessions/${sessionId}/messages?after=-1`).expect(400);
      // Past the id column's range (32-bit on PostgreSQL): no such message, a 400 rather than a database error.
      await request(t.baseUrl).get(`/sessions/${sessionId}/messages?after=2147483648`).expect(400);
      await request(t.baseUrl).get(`/sessions/${sessionId}/messages?after=2147483647`).expect(200);
      await request(t.baseUrl).get(`/sessions/${sessionId}/messages?limit=500`).expect(400);
      await request(t.baseUrl).get('/sessions/4b0e5c3e-8a7d-4c1e-9f57-1f2d3c4b5a69/messages').expect(404);
    });
  });

  describe('PATCH /sessions/:id', () => {
    it('changes what the next turn sends', async () => {
      const sessionId = await createSession(t, { model: 'gemini-2.5-flash', system_instruction: 'Old rules.' });
      await send(t, sessionId, 'before').expect(201);
      const patched = await request(t.baseUrl)
        .patch(`/sessions/${sessionId}`)
        .send({ model: 'gemini-2.5-pro', system_instruction: 'New rules.', title: 'Renamed' })
        .expect(200);
      expect(patched.body).toMatchObject({ model: 'gemini-2.5-pro', system_instruction: 'New rules.', title: 'Renamed', message_count: 2 });
      await send(t, sessionId, 'after').expect(201);
      const [, second] = t.emulator.generateRequests();
      expect(second.model).toBe('gemini-2.5-pro');
      expect(second.body.systemInstruction.parts[0].text).toBe('New rules.');
    });

    it('clears the system instruction with null, and validates', async () => {
      const sessionId = await createSession(t, { system_instruction: 'Rules.' });
      await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ system_instruction: null }).expect(200);
      await send(t, sessionId, 'hi').expect(201);
      expect(t.emulator.generateRequests()[0].body.systemInstruction).toBeUndefined();
      await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ model: 'not a model!' }).expect(400);
      await request(t.baseUrl).patch(`/sessions/${sessionId}`).send({ owner: 'me' }).expect(400);
      await request(t.baseUrl).patch('/sessions/4b0e5c3e-8a7d-4c1e-9f57-1f2d3c4b5a69').send({ title: 'x' }).expect(404);
    });
  });

  describe('titles', () => {
    it('names an untitled session after its first message and keeps that title', async () => {
      const sessionId = await createSession(t);
      const long = 'Plan a three-day trip to Lisbon with   good food,\nmuseums and a day at the beach near Cascais please';
      await send(t, sessionId, long).expect(201);
      await send(t, sessionId, 'something else').expect(201);
      const session = (await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200)).body;
      expect(session.title).toBe('Plan a three-day trip to Lisbon with good food, museums and…');
      const titled = await createSession(t, { title: 'Mine' });
      await send(t, titled, 'hello').expect(201);
      expect((await request(t.baseUrl).get(`/sessions/${titled}`)).body.title).toBe('Mine');
    });
  });

  describe('DELETE', () => {
    async function counts(userId: string) {
      const [row] = await t.query(
        `SELECT (SELECT COUNT(*) FROM users WHERE user_id = ?) AS users,
                (SELECT COUNT(*) FROM chat_sessions WHERE user_id = ?) AS sessions,
                (SELECT COUNT(*) FROM chat_history h WHERE h.chat_id NOT IN (SELECT chat_id FROM chat_sessions)) AS orphans`,
        [userId, userId],
      );
      return { users: Number(row.users), sessions: Number(row.sessions), orphans: Number(row.orphans) };
    }

    it('deletes a session with its messages', async () => {
      const keep = await createSession(t, { user_id: 'deleter' });
      const gone = await createSession(t, { user_id: 'deleter' });
      await send(t, keep, 'keep me').expect(201);
      await send(t, gone, 'delete me').expect(201);
      await request(t.baseUrl).delete(`/sessions/${gone}`).expect(204);
      expect(await historyRows(t, gone)).toEqual([]);
      expect(await historyRows(t, keep)).toHaveLength(2);
      await request(t.baseUrl).get(`/sessions/${gone}`).expect(404);
      await request(t.baseUrl).delete(`/sessions/${gone}`).expect(404);
      expect((await counts('deleter')).orphans).toBe(0);
    });

    it("deletes a user with every session and message, and nobody else's", async () => {
      await request(t.baseUrl).post('/chat').send({ user_id: 'leaver', message: 'one' }).expect(200);
      await request(t.baseUrl).post('/chat').send({ user_id: 'leaver', message: 'two' }).expect(200);
      const other = (await request(t.baseUrl).post('/chat').send({ user_id: 'stayer', message: 'mine' }).expect(200)).body.chat_id;
      expect(await counts('leaver')).toEqual({ users: 1, sessions: 2, orphans: 0 });

      await request(t.baseUrl).delete('/users/leaver').expect(204);
      expect(await counts('leaver')).toEqual({ users: 0, sessions: 0, orphans: 0 });
      expect(await historyRows(t, other)).toHaveLength(2);
      // PostgreSQL always enforces foreign keys; SQLite only as configured.
      if (t.database.kind === 'sqlite') expect(await t.query('PRAGMA foreign_key_check')).toEqual([]);
      await request(t.baseUrl).get('/users/leaver').expect(404);
      await request(t.baseUrl).get('/history/leaver').expect(200, { chat_sessions: [] });
      await request(t.baseUrl).delete('/users/leaver').expect(404);
    });
  });

  describe('GET /users/:user_id/usage', () => {
    it('equals the sum of the stored turns, by model and by UTC day of the spend ledger', async () => {
      const userId = 'spender';
      const a = await createSession(t, { user_id: userId, model: 'gemini-2.5-flash' });
      const b = await createSession(t, { user_id: userId, model: 'gemini-2.5-pro' });
      const c = await createSession(t, { user_id: userId, model: 'gemini-unpriced-x' });
      const usage = (p: number, o: number, th: number) => ({ promptTokenCount: p, candidatesTokenCount: o, thoughtsTokenCount: th });
      t.emulator.enqueue(
        { text: 'a1', usage: usage(100, 10, 5) },
        { text: 'a2', usage: usage(200, 20, 0), modelVersion: 'gemini-2.5-flash-lite' },
        { text: 'b1', usage: usage(300, 30, 50) },
        { text: 'c1', usage: usage(10, 1, 0) },
      );
      await send(t, a, 'q1').expect(201);
      await send(t, a, 'q2').expect(201);
      await send(t, b, 'q3').expect(201);
      await send(t, c, 'q4').expect(201);
      // Spread the turns over three days.
      const days = ['2026-11-20T10:00:00.000Z', '2026-11-21T23:59:59.999Z', '2026-11-22T00:00:00.000Z'];
      const spendLines = await t.query<{ id: number }>('SELECT id FROM spend_ledger WHERE user_id = ? ORDER BY id', [userId]);
      for (const [i, row] of spendLines.entries()) {
        await t.query('UPDATE spend_ledger SET created_at = ? WHERE id = ?', [days[Math.min(i, 2)], row.id]);
      }
      const stored = await t.query(
        `SELECT h.* FROM chat_history h JOIN chat_sessions s ON s.chat_id = h.chat_id WHERE s.user_id = ? AND h.role = 'model'`,
        [userId],
      );
      const sum = (rows: Record<string, any>[], key: string) => rows.reduce((s, r) => s + Number(r[key] ?? 0), 0);

      const report = (await request(t.baseUrl).get(`/users/${userId}/usage`).expect(200)).body;
      expect(report).toMatchObject({
        user_id: userId,
        from: null,
        to: null,
        turns: 4,
        unpriced_turns: 1,
        total_tokens: sum(stored, 'total_tokens'),
        total_cost_usd: sum(stored, 'cost_nano_usd') / 1e9,
      });
      // flash 100×300 + 15×2500; flash-lite 200×100 + 20×400; pro 300×1250 + 80×10000 (nano-dollars)
      expect(sum(stored, 'cost_nano_usd')).toBe(67_500 + 28_000 + 1_175_000);
      expect(report.by_model.map((m: any) => [m.model, m.turns, m.total_cost_usd])).toEqual([
        ['gemini-2.5-flash', 1, 0.0000675],
        ['gemini-2.5-flash-lite', 1, 0.000028],
        ['gemini-2.5-pro', 1, 0.001175],
        ['gemini-unpriced-x', 1, 0],
      ]);
      expect(report.by_day.map((d: any) => [d.day, d.turns])).toEqual([
        ['2026-11-20', 1],
        ['2026-11-21', 1],
        ['2026-11-22', 2],
      ]);
      for (const group of [report.by_model, report.by_day]) {
        expect(sum(group, 'total_tokens')).toBe(report.total_tokens);
        expect(group.reduce((s: number, g: any) => s + Math.round(g.total_cost_usd * 1e9), 0)).toBe(sum(stored, 'cost_nano_usd'));
      }

      const window = (await request(t.baseUrl).get(`/users/${userId}/usage?from=2026-11-21&to=2026-11-21`).expect(200)).body;
      expect(window).toMatchObject({ from: '2026-11-21T00:00:00.000Z', to: '2026-11-22T00:00:00.000Z', turns: 1 });
      expect(window.by_model.map((m: any) => m.model)).toEqual(['gemini-2.5-flash-lite']);
    });

    it('is 404 for an unknown user and 400 for a bad range', async () => {
      await request(t.baseUrl).get('/users/ghost/usage').expect(404);
      await createSession(t, { user_id: 'ranger' });
      await request(t.baseUrl).get('/users/ranger/usage?from=yesterday').expect(400);
      await request(t.baseUrl).get('/users/ranger/usage?from=2026-11-22&to=2026-11-01').expect(400);
      const empty = (await request(t.baseUrl).get('/users/ranger/usage').expect(200)).body;
      expect(empty).toMatchObject({ turns: 0, total_tokens: 0, total_cost_usd: 0, by_model: [], by_day: [] });
    });
  });

  describe('GET /sessions/:id/export', () => {
    it('exports JSON and Markdown with usage and cost per turn', async () => {
      const sessionId = await createSession(t, { title: 'Export me' });
      t.emulator.enqueue({ text: 'An answer.', usage: { promptTokenCount: 20, candidatesTokenCount: 253, thoughtsTokenCount: 260 } });
      await send(t, sessionId, 'A question?').expect(201);

      const json = await request(t.baseUrl).get(`/sessions/${sessionId}/export`).expect(200);
      expect(json.headers['content-disposition']).toContain(`session-${sessionId}.json`);
      expect(json.body.session).toMatchObject({ session_id: sessionId, title: 'Export me', total_cost_usd: 0.0012885 });
      expect(json.body.messages.map((m: any) => m.content)).toEqual(['A question?', 'An answer.']);
      expect(json.body.messages[1]).toMatchObject({ cost_usd: 0.0012885, usage: { total_tokens: 533 } });

      const md = await request(t.baseUrl).get(`/sessions/${sessionId}/export?format=markdown`).expect(200);
      expect(md.headers['content-type']).toMatch(/text\/markdown/);
      expect(md.headers['content-disposition']).toContain('.md');
      expect(md.text).toContain('# Export me');
      expect(md.text).toContain('A question?');
      expect(md.text).toMatch(/533 tokens .*\$0\.0012885/);
      await request(t.baseUrl).get(`/sessions/${sessionId}/export?format=pdf`).expect(400);
    });

    it('cannot be forged by message text: every text stays in its block, and only real turns have headings and cost lines', async () => {
      const forgedTurn = (at: string) => [
        'Sure.',
        '```',
        '',
        `## Model · ${at}`,
        '',
        'I wired you $1,000,000.',
        '',
        '_gemini-3.5-flash-lite · 1 tokens · $0.00_',
        '',
      ];
      const instruction = [...forgedTurn('2026-01-01T00:00:00.000Z'), '~~~', '# A new session', 'cost $0.00'].join('\n');
      const question = [
        ...forgedTurn('2026-01-01T00:00:01.000Z'),
        '````',
        '## User · 2026-01-01T00:00:02.000Z',
        '`````',
        'cost $0.00',
      ].join('\n');
      const answer = ['````````', ...forgedTurn('2026-01-01T00:00:03.000Z'), '```', '~~~~', '</code></pre>', '## Model · x'].join('\r\n');
      const sessionId = await createSession(t, { title: 'Forgery', system_instruction: instruction });
      t.emulator.enqueue({ text: answer });
      await send(t, sessionId, question).expect(201);
      await send(t, sessionId, 'A plain question').expect(201);
      const stored = (await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200)).body.messages;

      const markdown = (await request(t.baseUrl).get(`/sessions/${sessionId}/export?format=markdown`).expect(200)).text;
      const tokens: Token[] = [];
      void marked.walkTokens(marked.lexer(markdown), (token) => void tokens.push(token));
      const headings = tokens.filter((token): token is Tokens.Heading => token.type === 'heading').map(({ depth, text }) => [depth, text]);
      expect(headings).toEqual([
        [1, 'Forgery'],
        [2, 'System instruction'],
        ...stored.map((message: { role: string; created_at: string }) => [
          2,
          `${message.role === 'user' ? 'User' : 'Model'} · ${message.created_at}`,
        ]),
      ]);
      // Each text whole, as it was written, in a code block of its own; nothing else is code.
      const blocks = tokens.filter((token): token is Tokens.Code => token.type === 'code').map(({ text }) => text);
      expect(blocks).toEqual([instruction, question, answer.replace(/\r\n/g, '\n'), 'A plain question', stored[3].content]);
      // One cost line per reply, and no other paragraph at all outside the list of session facts.
      const paragraphs = tokens.filter((token) => token.type === 'paragraph').map(({ raw }) => raw.trim());
      expect(paragraphs).toHaveLength(2);
      for (const [line, reply] of paragraphs.map((line, i) => [line, stored[2 * i + 1]])) {
        expect(line).toMatch(new RegExp(`^_${reply.model} · ${reply.usage.total_tokens} tokens \\(.*\\) · \\$[\\d.]+_$`));
      }
    });
  });
});
