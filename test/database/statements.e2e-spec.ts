import request from 'supertest';
import { createSession, send } from '../support/http.js';
import { recordStatements, shapeOf } from '../support/statements.js';
import type { RanStatement } from '../support/statements.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

/** The statements the database runs while `act` does. */
async function recorded(t: TestApp, act: () => Promise<unknown>): Promise<RanStatement[]> {
  const recorder = recordStatements(t.dataSource);
  try {
    await act();
  } finally {
    recorder.stop();
  }
  return recorder.ran;
}

/** The same, as `VERB table+joined`. */
async function statementsOf(t: TestApp, act: () => Promise<unknown>): Promise<string[]> {
  return (await recorded(t, act)).map(({ sql }) => shapeOf(sql));
}

const onPostgres = process.env.TEST_DATABASE === 'postgres';

/** The session with its owner's daily limit. */
const SESSION_READ = 'SELECT chat_sessions+users';
/** The messages stored since the ones this instance holds, with the session's message count. */
const HISTORY_READ = 'SELECT chat_sessions+chat_history';

/** The ledger line, the day's running total, the session's running totals, both messages: what every turn writes. */
const TURN_WRITES = ['INSERT spend_ledger', 'INSERT spend_daily', 'UPDATE chat_sessions', 'INSERT chat_history'];

const BEGIN = onPostgres ? 'START' : 'BEGIN';

/**
 * What a turn asks of each database besides its reads and writes. Before it calls Gemini it
 * writes its budget reservation (a database that cannot take writes refuses it there, before
 * any spend), released in the turn's transaction. On PostgreSQL the instances coordinate through
 * it: the caller's rate-limit window is one call (`take_rate_limit`), the session's lease is
 * taken (one upsert) before the history is read and released in the turn's transaction.
 */
const EXPECTED = {
  beforeHistory: onPostgres ? ['SELECT take_rate_limit', 'INSERT session_leases'] : [],
  // SQLite commits the reservation unsynced (`synchronous` set to NORMAL around it, then back).
  reserve: onPostgres
    ? [BEGIN, 'INSERT budget_reservations', 'COMMIT']
    : ['PRAGMA', BEGIN, 'INSERT budget_reservations', 'COMMIT', 'PRAGMA'],
  store: (writes: string[]) => [BEGIN, ...(onPostgres ? ['DELETE session_leases'] : []), 'DELETE budget_reservations', ...writes, 'COMMIT'],
};

describe('What a turn asks of the database', () => {
  const t = useTestApp();

  it('a continuing turn reads twice, writes its reservation and then itself, however long the session', async () => {
    const sessionId = await createSession(t, { user_id: 'ann' });
    await send(t, sessionId, 'first').expect(201);

    const second = await statementsOf(t, () => send(t, sessionId, 'second').expect(201));
    for (let turn = 0; turn < 30; turn++) await send(t, sessionId, `turn ${turn}`).expect(201);
    const longer = await statementsOf(t, () => send(t, sessionId, 'after 64 messages').expect(201));

    const continuing = [SESSION_READ, ...EXPECTED.beforeHistory, HISTORY_READ, ...EXPECTED.reserve, ...EXPECTED.store(TURN_WRITES)];
    expect(second).toEqual(continuing);
    expect(longer).toEqual(continuing);
  });

  it('reads only the messages stored since the ones it holds: a long session costs what a short one does', async () => {
    const sessionId = await createSession(t, { user_id: 'eve' });
    for (let turn = 0; turn < 20; turn++) await send(t, sessionId, `turn ${turn}`).expect(201);
    // The last turn read the conversation before its own two messages were stored.
    const [lastRead] = await t.query<{ id: number }>('SELECT id FROM chat_history WHERE chat_id = ? ORDER BY id DESC LIMIT 1 OFFSET 2', [
      sessionId,
    ]);

    const ran = await recorded(t, () => send(t, sessionId, 'one more').expect(201));

    // Asked for: the rows after those — the last turn's two — not the 40 before them.
    const historyRead = ran.find(({ sql }) => shapeOf(sql) === HISTORY_READ)!;
    expect(historyRead.values).toEqual([Number(lastRead.id), sessionId]);
    // And what was sent upstream is still the whole conversation.
    expect((t.emulator.generateRequests().at(-1)!.body as { contents: unknown[] }).contents).toHaveLength(41);
  });

  it("with a daily budget, reads the day's spend once more, when the turn is admitted", async () => {
    const sessionId = await createSession(t, { user_id: 'bea' });
    await request(t.baseUrl).patch('/users/bea').send({ daily_budget_usd: 5 }).expect(200);
    await send(t, sessionId, 'first').expect(201);

    const statements = await statementsOf(t, () => send(t, sessionId, 'second').expect(201));

    // Under a lock on the user (PostgreSQL: advisory; SQLite: its one writer): expired reservations
    // go, spend and reservations are read in one statement, one is added (unsynced on SQLite).
    const admission = onPostgres
      ? [BEGIN, 'SELECT', 'DELETE budget_reservations', 'SELECT spend_daily', 'INSERT budget_reservations', 'COMMIT']
      : ['PRAGMA', BEGIN, 'DELETE budget_reservations', 'SELECT spend_daily', 'INSERT budget_reservations', 'COMMIT', 'PRAGMA'];
    expect(statements).toEqual([SESSION_READ, ...EXPECTED.beforeHistory, HISTORY_READ, ...admission, ...EXPECTED.store(TURN_WRITES)]);
  });

  it('a new chat looks its owner up once, and writes the session with its first turn', async () => {
    const newChat = (userId: string) =>
      statementsOf(t, () => request(t.baseUrl).post('/chat').send({ user_id: userId, message: 'hello' }).expect(200));
    const newUser = await newChat('cid');
    const knownUser = await newChat('cid');

    const ledger = TURN_WRITES.slice(0, 2);
    const created = ['INSERT users', 'INSERT chat_sessions', 'INSERT chat_history'];
    expect(newUser).toEqual(['SELECT users', ...EXPECTED.beforeHistory, ...EXPECTED.reserve, ...EXPECTED.store([...ledger, ...created])]);
    // An owner who existed is looked for again in the transaction: deleted meanwhile, they stay deleted.
    expect(knownUser).toEqual([
      'SELECT users',
      ...EXPECTED.beforeHistory,
      ...EXPECTED.reserve,
      ...EXPECTED.store([...ledger, 'SELECT users', ...created]),
    ]);
  });

  it('the history of a session is two reads, whatever its length', async () => {
    const sessionId = await createSession(t, { user_id: 'dan' });
    for (let turn = 0; turn < 5; turn++) await send(t, sessionId, `turn ${turn}`).expect(201);

    const statements = await statementsOf(t, () => request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200));

    expect(statements).toEqual([SESSION_READ, HISTORY_READ]);
  });
});
