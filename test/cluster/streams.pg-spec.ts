import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { startCluster } from '../support/cluster.js';
import type { Cluster } from '../support/cluster.js';
import { explained } from '../support/explained.js';
import { streamMessage } from '../support/sse.js';
import type { SseEvent } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

const TIMEOUT_MS = 90_000;
/** Four chunks 400 ms apart: the turn runs about 1.2 s on instance A while B picks it up. */
const REPLY = 'A turn that starts on one instance can be followed and stopped from any other one sharing the database.';
const SLOW = { text: REPLY, chunkDelayMs: 400 };

const deltasOf = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.text)
    .join('');

/**
 * API.md "Streams that survive", across instances: a turn running on instance A is resumed
 * (followed live) and cancelled through instance B, which reads its events from the database and
 * sets its cancel flag there. What it measured shows with an assertion that fails, or on the
 * console with STREAM_TIMINGS=1.
 */
describe('Streams across instances on one PostgreSQL database', () => {
  const emulator = new GeminiEmulator({ recordRequests: true });
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    await emulator.start(0, '127.0.0.1');
  });
  afterAll(async () => {
    await cluster?.stop();
    await emulator.stop();
  }, TIMEOUT_MS);

  it(
    'resumes on B a turn running on A, followed live, and cancels from B a turn running on A',
    async () => {
      cluster = await startCluster({ emulator, size: 2, env: { RATE_LIMIT_PER_MINUTE: '1000' } });
      const [a, b] = cluster.instances;
      const sessionId = (await request(a.url).post('/sessions').send({}).expect(201)).body.session_id as string;

      // 1. Streamed on A; at its first delta the same request is sent to B with Last-Event-ID (as after
      // a drop): B follows it live. Each event's arrival on B against its arrival on A is the lag.
      emulator.enqueue(SLOW);
      const onA = new Map<string, number>();
      const onB = new Map<string, number>();
      let resumed: ReturnType<typeof streamMessage> | undefined;
      const first = await streamMessage(a.url, sessionId, 'follow me', {
        onEvent: (event) => {
          onA.set(event.id!, performance.now());
          if (event.event === 'delta' && !resumed) {
            resumed = streamMessage(b.url, sessionId, 'follow me', {
              headers: { 'last-event-id': event.id! },
              onEvent: (later) => onB.set(later.id!, performance.now()),
            });
          }
        },
      });
      const rest = await resumed!;
      const turnId = first.events[0].data.turn_id as string;
      const lags = [...onB].map(([id, at]) => at - onA.get(id)!);
      const lagMs = { max: Math.max(...lags), mean: lags.reduce((sum, lag) => sum + lag, 0) / lags.length };

      // 2. Started on A, cancelled through B at its first delta.
      emulator.enqueue(SLOW);
      let cancelTurn = '';
      let cancelAt = 0;
      let cancelled: Promise<request.Response> | undefined;
      const stopped = await streamMessage(a.url, sessionId, 'stop me', {
        onEvent: (event) => {
          if (event.event === 'turn') cancelTurn = event.data.turn_id;
          if (event.event === 'delta' && !cancelled) {
            cancelAt = performance.now();
            cancelled = request(b.url)
              .post(`/sessions/${sessionId}/turns/${cancelTurn}/cancel`)
              .send()
              .then((r) => r);
          }
        },
      });
      const cancelToDoneMs = performance.now() - cancelAt;
      const accepted = await cancelled!;
      const rows = await waitFor(
        'both turns stored',
        () => cluster!.sql.query('SELECT content, finish_reason FROM chat_history WHERE chat_id = ? ORDER BY id', [sessionId]),
        { until: (r) => r.length === 4, timeoutMs: 10_000 },
      );

      const figures = () =>
        `resumed on B, each event after its arrival on A: mean ${lagMs.mean.toFixed(0)} ms, max ${lagMs.max.toFixed(0)} ms (${lags.length} events); ` +
        `cancel through B to the done event on A: ${cancelToDoneMs.toFixed(0)} ms`;
      if (process.env.STREAM_TIMINGS === '1') console.log(figures());
      explained(figures, () => {
        expect(rest.events.map((e) => e.id)).toEqual(rest.events.map((_, i) => `${turnId}:${i + 3}`));
        expect(deltasOf(first.events.slice(0, 2)) + deltasOf(rest.events)).toBe(REPLY);
        expect(rest.events.at(-1)!.data).toEqual(first.events.at(-1)!.data);
        expect(rest.events.at(-1)!.event).toBe('done');
        // Followed live: each event on B within a batch (50 ms) and a poll (100 ms) of A, with room for a busy machine.
        expect(lagMs.max).toBeLessThan(1_000);
        expect(accepted.status).toBe(202);
        const done = stopped.events.at(-1)!;
        expect(done.event).toBe('done');
        expect(done.data.model_message).toMatchObject({ finish_reason: 'CANCELLED', content: deltasOf(stopped.events) });
        // A's poll (every 200 ms) sees the flag, aborts Gemini and stores: well before the 1.2 s the reply had left.
        expect(cancelToDoneMs).toBeLessThan(1_000);
        expect(rows.map((r) => r.finish_reason)).toEqual([null, 'STOP', null, 'CANCELLED']);
        expect(rows[1].content).toBe(REPLY);
        expect(emulator.generateRequests()).toHaveLength(2);
      });
      const ledger = await cluster.sql.query('SELECT turn_id FROM spend_ledger WHERE session_id = ? ORDER BY created_at', [sessionId]);
      expect(ledger.map((line) => line.turn_id)).toEqual([turnId, cancelTurn]);
      await waitFor('the emulator to see A hang up', () => emulator.generateRequests()[1]?.clientGone, { timeoutMs: 10_000 });
    },
    TIMEOUT_MS,
  );
});
