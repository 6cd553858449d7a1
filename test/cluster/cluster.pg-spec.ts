import pg from 'pg';
import request from 'supertest';
import { MIGRATIONS } from '../../src/database/data-source-options.js';
import { GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { LEASE_TTL_MS, startCluster, stopInstance } from '../support/cluster.js';
import { explained } from '../support/explained.js';
import { waitFor } from '../support/wait.js';
import type { Cluster } from '../support/cluster.js';

const MIGRATION_LOCK = "SELECT pg_advisory_%s(hashtextextended('gemini-chat-api migrations', 0))";
const ADMIN_KEY = 'admin-key-of-the-cluster-spec-0123456789';
const TIMEOUT_MS = 60_000;
/** How long an instance may take to listen, on a loaded 2-core machine. */
const START_MS = 30_000;

/**
 * API.md "Many instances, one service": built instances, each its own process, on one
 * PostgreSQL database, with the Gemini emulator behind them. Every guarantee of one instance
 * holds across them. docs/operations.md ("What the multi-instance spec measured") quotes what
 * they measured; a run prints nothing, and a figure shows in the message of an assertion that fails.
 */
describe('Many instances on one PostgreSQL database', () => {
  const emulator = new GeminiEmulator({ recordRequests: true });
  let cluster: Cluster | undefined;
  /** The instances in turn, so concurrent requests spread over all of them. */
  const instanceUrl = (i: number) => cluster!.instances[i % cluster!.instances.length].url;
  const calls = () => emulator.generateRequests();

  beforeAll(async () => {
    await emulator.start(0, '127.0.0.1');
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(() => emulator.reset());
  // SIGTERM lets an instance finish its turns in flight (up to 10 s) before it exits.
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  }, TIMEOUT_MS);

  async function newSession(userId: string): Promise<string> {
    return (await request(instanceUrl(0)).post('/sessions').send({ user_id: userId }).expect(201)).body.session_id;
  }

  it(
    'start together on an empty database, which is migrated once',
    async () => {
      cluster = await startCluster({ emulator });
      for (const { url } of cluster.instances) await request(url).get('/health/ready').expect(200, { status: 'ready', database: 'up' });
      const runs = await cluster.sql.query('SELECT name, COUNT(*) AS n FROM migrations GROUP BY name');
      expect(runs).toHaveLength(MIGRATIONS.length);
      expect(runs.every((run) => run.n === 1)).toBe(true);
    },
    TIMEOUT_MS,
  );

  it(
    'answer 503 NOT_READY while waiting for the migration lock, and serve once it is free',
    async () => {
      cluster = await startCluster({ emulator, size: 1 });
      const holder = new pg.Client({ connectionString: cluster.database.url });
      await holder.connect();
      try {
        await holder.query(MIGRATION_LOCK.replace('%s', 'lock'));
        const late = await cluster.launch();
        await waitFor('the new instance to listen', async () => (await fetch(`${late.url}/health/ready`).catch(() => null)) !== null, {
          timeoutMs: START_MS,
        });
        await request(late.url).get('/health/ready').expect(503, { status: 'migrating', database: 'up' });
        const refused = await request(late.url).post('/sessions').send({}).expect(503);
        expect(refused.body.code).toBe('NOT_READY');
        expect(refused.headers['retry-after']).toBe('1');
        await holder.query(MIGRATION_LOCK.replace('%s', 'unlock'));
        await late.server.ready;
        await request(late.url).get('/health/ready').expect(200);
        await request(late.url).post('/sessions').send({}).expect(201);
      } finally {
        await holder.end();
      }
    },
    TIMEOUT_MS,
  );

  it(
    'run 30 concurrent turns of one session one at a time, each seeing every turn before it',
    async () => {
      cluster = await startCluster({ emulator, env: { RATE_LIMIT_PER_MINUTE: '1000' } });
      const sessionId = await newSession('crowd');
      const started = Date.now();
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          request(instanceUrl(i))
            .post(`/sessions/${sessionId}/messages`)
            .send({ message: `turn ${i}` }),
        ),
      );
      const elapsed = Date.now() - started;
      explained(
        () => `30 concurrent turns of one session over 3 instances in ${elapsed} ms`,
        () => expect(responses.map((response) => response.status)).toEqual(Array(30).fill(201)),
      );

      // Each call carried the whole stored history before it, and nothing else: 1, 3, 5 … 59 messages.
      const sizes = calls().map((call) => call.body.contents.length as number);
      expect([...sizes].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => 2 * i + 1));
      const stored = await cluster.sql.query<{ role: string; content: string }>(
        'SELECT role, content FROM chat_history WHERE chat_id = ? ORDER BY id',
        [sessionId],
      );
      expect(stored.map((row) => row.role)).toEqual(Array(30).fill(['user', 'model']).flat());
      for (const call of calls()) {
        const sent = call.body.contents.map((content: { parts: { text: string }[] }) => content.parts[0].text);
        expect(sent).toEqual(stored.slice(0, sent.length).map((row) => row.content));
      }
      const session = (await request(instanceUrl(1)).get(`/sessions/${sessionId}`).expect(200)).body;
      expect(session.message_count).toBe(60);
    },
    TIMEOUT_MS,
  );

  it(
    'share one RATE_LIMIT_PER_MINUTE per caller, which survives a restart',
    async () => {
      cluster = await startCluster({ emulator, env: { RATE_LIMIT_PER_MINUTE: '6' } });
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          request(instanceUrl(i))
            .post('/chat')
            .send({ user_id: 'limited', message: `m${i}` }),
        ),
      );
      const admitted = responses.filter((response) => response.status === 200);
      const refused = responses.filter((response) => response.status === 429);
      expect([admitted.length, refused.length]).toEqual([6, 6]);
      expect(refused.every((response) => response.body.code === 'RATE_LIMITED' && Number(response.headers['retry-after']) >= 1)).toBe(true);
      expect(calls()).toHaveLength(6);

      await stopInstance(cluster.instances[0], 'SIGTERM');
      const restarted = await cluster.add();
      expect(
        (await request(restarted.url).post('/chat').send({ user_id: 'limited', message: 'after a restart' }).expect(429)).body.code,
      ).toBe('RATE_LIMITED');
      await request(restarted.url).post('/chat').send({ user_id: 'someone-else', message: 'hello' }).expect(200);
    },
    TIMEOUT_MS,
  );

  it(
    'share one ESTIMATES_PER_MINUTE per caller, a window apart from the turns',
    async () => {
      cluster = await startCluster({ emulator, env: { ESTIMATES_PER_MINUTE: '6', RATE_LIMIT_PER_MINUTE: '100' } });
      const sessionId = await newSession('estimating');
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          request(instanceUrl(i))
            .post(`/sessions/${sessionId}/estimate`)
            .send({ message: `draft ${i}` }),
        ),
      );
      const admitted = responses.filter((response) => response.status === 200);
      const refused = responses.filter((response) => response.status === 429);
      expect([admitted.length, refused.length]).toEqual([6, 6]);
      expect(refused.every((response) => response.body.code === 'RATE_LIMITED' && Number(response.headers['retry-after']) >= 1)).toBe(true);
      expect(emulator.requests.filter((r) => r.action === 'countTokens')).toHaveLength(6);
      // The same caller's turns are counted in another window.
      await request(instanceUrl(1)).post(`/sessions/${sessionId}/messages`).send({ message: 'a turn' }).expect(201);
    },
    TIMEOUT_MS,
  );

  it(
    'share one daily budget: concurrent turns over all instances overshoot it by less than one turn',
    async () => {
      // worst case of a turn = 5 prompt chars × 300 + 100 output tokens × 2,500 = 251,500 n$; real cost = 2 × 300 + 100 × 2,500 = 250,600 n$.
      cluster = await startCluster({ emulator, env: { GEMINI_MAX_OUTPUT_TOKENS: '100', RATE_LIMIT_PER_MINUTE: '1000' } });
      const userId = 'thrifty';
      const budget = 1_000_000;
      await request(instanceUrl(0)).post('/users').send({ user_id: userId }).expect(201);
      await request(instanceUrl(1))
        .patch(`/users/${userId}`)
        .send({ daily_budget_usd: budget / 1e9 })
        .expect(200);
      const sessions = await Promise.all(Array.from({ length: 24 }, () => newSession(userId)));
      emulator.setDefaultReply({ delayMs: 80, usage: { promptTokenCount: 2, candidatesTokenCount: 100, thoughtsTokenCount: 0 } });
      const responses = await Promise.all(
        sessions.map((id, i) => request(instanceUrl(i)).post(`/sessions/${id}/messages`).send({ message: 'spend' })),
      );
      const admitted = responses.filter((response) => response.status === 201).length;
      const refused = responses.filter((response) => response.status === 429);
      expect(admitted + refused.length).toBe(24);
      expect(refused.every((response) => response.body.code === 'BUDGET_EXCEEDED')).toBe(true);
      expect(calls()).toHaveLength(admitted);

      const [{ spent }] = await cluster.sql.query('SELECT COALESCE(SUM(cost_nano_usd), 0) AS spent FROM spend_ledger WHERE user_id = ?', [
        userId,
      ]);
      expect(spent).toBe(admitted * 250_600);
      // Four fit under the limit; the turn admitted last may cross it, by less than its own cost.
      expect(admitted).toBeGreaterThanOrEqual(4);
      expect(spent).toBeLessThan(budget + 251_500);
      expect(await cluster.sql.query('SELECT id FROM budget_reservations')).toEqual([]);
      for (let i = 0; i < 3; i++)
        await request(instanceUrl(i)).post(`/sessions/${sessions[0]}/messages`).send({ message: 'more' }).expect(429);
    },
    TIMEOUT_MS,
  );

  it(
    'reach Gemini once for an Idempotency-Key raced on every instance, and replay it on each',
    async () => {
      cluster = await startCluster({ emulator });
      const sessionId = await newSession('retrier');
      // Long enough for the three requests to arrive while the first runs, on a loaded machine too.
      emulator.setDefaultReply({ text: 'charged once', delayMs: 1_500 });
      const send = (url: string) =>
        request(url).post(`/sessions/${sessionId}/messages`).set('Idempotency-Key', 'pay-once').send({ message: 'once' });
      const raced = await Promise.all(cluster.instances.map(({ url }) => send(url)));
      const first = raced.filter((response) => response.status === 201);
      expect(first).toHaveLength(1);
      expect(raced.filter((response) => response.status === 409).map((response) => response.body.code)).toEqual([
        'IDEMPOTENCY_IN_PROGRESS',
        'IDEMPOTENCY_IN_PROGRESS',
      ]);
      for (const { url } of cluster.instances) {
        const replay = await send(url).expect(201);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.body).toEqual(first[0].body);
      }
      expect(calls()).toHaveLength(1);
      expect(await cluster.sql.query('SELECT id FROM chat_history WHERE chat_id = ?', [sessionId])).toHaveLength(2);
    },
    TIMEOUT_MS,
  );

  it(
    'refuse a key revoked on one instance on every instance, at once',
    async () => {
      cluster = await startCluster({ emulator, env: { ADMIN_API_KEY: ADMIN_KEY } });
      const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
      await request(instanceUrl(0)).post('/users').set(admin).send({ user_id: 'keyholder' }).expect(201);
      const issued = (await request(instanceUrl(1)).post('/users/keyholder/api-keys').set(admin).expect(201)).body;
      const asKeyholder = (url: string) => request(url).get('/users/keyholder').set('Authorization', `Bearer ${issued.key}`);
      for (const { url } of cluster.instances) await asKeyholder(url).expect(200);
      await request(instanceUrl(2)).delete(`/users/keyholder/api-keys/${issued.key_id}`).set(admin).expect(204);
      for (const { url } of cluster.instances) await asKeyholder(url).expect(401);
    },
    TIMEOUT_MS,
  );

  it(
    'finish and store the turn in flight of an instance stopped with SIGTERM',
    async () => {
      cluster = await startCluster({ emulator, size: 2 });
      const sessionId = await newSession('graceful');
      emulator.enqueue({ text: 'answered while draining', delayMs: 1_000 });
      const turn = request(instanceUrl(0))
        .post(`/sessions/${sessionId}/messages`)
        .send({ message: 'in flight' })
        .then((response) => response);
      await waitFor('the call to Gemini', () => calls().length === 1, { timeoutMs: 10_000 });
      const exited = stopInstance(cluster.instances[0], 'SIGTERM');

      const response = await turn;
      expect(response.status).toBe(201);
      expect(response.body.reply).toBe('answered while draining');
      expect(await exited).toBe(0);
      const history = (await request(instanceUrl(1)).get(`/sessions/${sessionId}/history`).expect(200)).body;
      expect(history.messages.map((message: { content: string }) => message.content)).toEqual(['in flight', 'answered while draining']);
    },
    TIMEOUT_MS,
  );

  it(
    'let a retry run on another instance once the claims of an instance killed mid-turn expire: key, lease and reservation',
    async () => {
      // A budget smaller than one turn's worst case: while the dead turn's reservation counts, nothing is admitted.
      cluster = await startCluster({ emulator, size: 2, env: { USER_DAILY_BUDGET_USD: '0.00001' } });
      const sessionId = await newSession('unlucky');
      const send = (url: string) =>
        request(url).post(`/sessions/${sessionId}/messages`).set('Idempotency-Key', 'cut-1').send({ message: 'cut short' });
      emulator.enqueue({ text: 'never delivered', delayMs: 10_000 });
      const doomed = send(instanceUrl(0)).then(
        (response) => response.status,
        () => 'connection lost',
      );
      await waitFor('the call to Gemini', () => calls().length === 1, { timeoutMs: 10_000 });
      const held = async () =>
        (
          await cluster!.sql.query(
            `SELECT (SELECT COUNT(*) FROM session_leases) AS leases, (SELECT COUNT(*) FROM budget_reservations) AS reservations,
                    (SELECT COUNT(*) FROM idempotency_records WHERE state = 'running') AS claims`,
          )
        )[0];
      expect(await held()).toEqual({ leases: 1, reservations: 1, claims: 1 });
      // Taken milliseconds apart, the three expire apart; the heartbeat (every third of
      // LEASE_TTL_MS) renews them to one expiry, later than any of them: the kill comes after that.
      const expiries = async () =>
        (
          await cluster!.sql.query<{ expires_at: number }>(
            `SELECT expires_at FROM session_leases UNION ALL SELECT expires_at FROM budget_reservations
             UNION ALL SELECT expires_at FROM idempotency_records WHERE state = 'running'`,
          )
        ).map((row) => row.expires_at);
      const taken = Math.max(...(await expiries()));
      await waitFor('a heartbeat to renew the three claims to one expiry', expiries, {
        until: (now) => now.length === 3 && new Set(now).size === 1 && now[0] > taken,
        timeoutMs: 10_000,
      });

      expect(await stopInstance(cluster.instances[0], 'SIGKILL')).toBe('SIGKILL');
      expect(await doomed).toBe('connection lost');
      const killedAt = Date.now();
      // The client retries, as Retry-After says, until the dead instance's claim has expired.
      const statuses: number[] = [];
      const retried = await waitFor(
        "the retry to run once the dead instance's claims expired",
        async () => {
          const response = await send(instanceUrl(1));
          if (response.status === 409) statuses.push(response.status);
          return response;
        },
        { until: (response) => response.status !== 409, everyMs: 100, timeoutMs: LEASE_TTL_MS + 10_000 },
      );
      const waited = Date.now() - killedAt;

      expect(statuses.length).toBeGreaterThan(0);
      expect(retried.status).toBe(201);
      expect(retried.body.user_message.content).toBe('cut short');
      // It waited for the claims to expire (renewed every third of LEASE_TTL_MS until the kill), not longer.
      expect(waited).toBeGreaterThanOrEqual(LEASE_TTL_MS / 2);
      expect(waited).toBeLessThan(LEASE_TTL_MS + 2_000);
      expect(calls()).toHaveLength(2);
      expect(calls()[1].body.contents.map((content: { parts: { text: string }[] }) => content.parts[0].text)).toEqual(['cut short']);
      expect(await held()).toEqual({ leases: 0, reservations: 0, claims: 0 });
      await send(instanceUrl(1)).expect(201).expect('Idempotent-Replayed', 'true');
    },
    TIMEOUT_MS,
  );
});
