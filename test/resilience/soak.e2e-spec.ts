import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { explained } from '../support/explained.js';
import { useTestApp } from '../support/test-app.js';

const WARM_UP_TURNS = 500;
const ROUNDS = 5;
const TURNS_PER_ROUND = 800;
const TURNS_PER_SESSION = 5;
const CONCURRENCY = 8;
/**
 * Heap the service may keep from the first measured round to the last, after a full collection
 * each time. Flat measures +1 MB; the request log the offline emulator used to keep grew it by
 * about 10 MB a round (38 MB over these rounds).
 */
const ALLOWED_GROWTH_MB = 4;
const MESSAGE = `${'A message of about two kilobytes, as a chat client might send. '.repeat(40)}`.slice(0, 2048);

/**
 * How long the event loop is let turn after a measurement, before the next round. The collections
 * block the one process that holds both the server and its clients; when they take longer than
 * the server's 5 s keep-alive timeout (seen on a 2-core CI machine, in a jest worker that had
 * kept 940 MB from earlier suites), the server's overdue timers close the idle connections just
 * as the next round's first requests are written on them: 8 `ECONNRESET`, one per client
 * (reproduced on Node 20 and 24 by blocking 6 s). A turn of the loop lets both sides see those
 * closes first (1 ms was not always enough on Node 20; 100 ms was, on both).
 */
const AFTER_GC_MS = 100;

/** A full garbage collection, then the heap in use. */
function heapAfterGcMb(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/**
 * Requests whose connection failed before an answer (counted in the figures). The soak measures
 * memory, not connections: such a request is sent once more and counted, and only more than
 * MAX_TRANSPORT_FAILURES of them fail the soak. A status code is never retried. (The resets CI
 * saw came from the soak itself: see AFTER_GC_MS.) A turn sent again may be stored twice, which
 * a memory soak does not mind; an Idempotency-Key would make it the same turn, but costs a claim
 * per turn (27.6 s for this soak without, 44.0 s with, measured side by side), which is not the
 * load measured here.
 */
const transportFailures: string[] = [];
const MAX_TRANSPORT_FAILURES = 5;

async function post(url: string, body: object): Promise<Record<string, unknown>> {
  const send = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const response = await send().catch((error: Error & { cause?: { code?: string } }) => {
    transportFailures.push(`${url}: ${error.cause?.code ?? error.message}`);
    return send();
  });
  if (response.status >= 300) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** `turns` turns from CONCURRENCY clients, each starting a fresh session every few turns. */
async function drive(baseUrl: string, turns: number): Promise<void> {
  let left = turns;
  const client = async () => {
    let sessionId = '';
    for (let done = 0; left > 0; done++) {
      left -= 1;
      if (done % TURNS_PER_SESSION === 0) sessionId = (await post(`${baseUrl}/sessions`, {})).session_id as string;
      await post(`${baseUrl}/sessions/${sessionId}/messages`, { message: MESSAGE });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
}

/**
 * The embedded default (`npm start` with no key: offline mode, the emulator in-process) under
 * sustained load. After a warm-up, what the process keeps must not grow from round to round.
 */
describe('Offline mode under sustained load', () => {
  const t = useTestApp({ offline: true, env: { RATE_LIMIT_PER_MINUTE: '1000000' } });

  it(`keeps its memory flat over ${ROUNDS * TURNS_PER_ROUND} turns of 2 KB messages`, async () => {
    await drive(t.baseUrl, WARM_UP_TURNS);
    const rounds: number[] = [];
    let longestGcMs = 0;
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      await drive(t.baseUrl, TURNS_PER_ROUND);
      const gcStarted = Date.now();
      rounds.push(heapAfterGcMb());
      longestGcMs = Math.max(longestGcMs, Date.now() - gcStarted);
      await delay(AFTER_GC_MS);
    }
    const growth = rounds[rounds.length - 1] - rounds[0];
    const seconds = (Date.now() - started) / 1000;
    const figures = () =>
      `soak (offline mode): ${WARM_UP_TURNS} warm-up turns, then ${ROUNDS} rounds of ${TURNS_PER_ROUND} turns in ` +
      `${seconds.toFixed(1)} s (${((ROUNDS * TURNS_PER_ROUND) / seconds).toFixed(0)} turns/s); heap after GC per round ` +
      `${rounds.map((mb) => mb.toFixed(1)).join(', ')} MB (longest collection ${longestGcMs} ms); growth ${growth.toFixed(1)} MB; ` +
      `requests sent again after a connection failure: ${transportFailures.length} ${JSON.stringify(transportFailures)}`;
    explained(figures, () => {
      expect(growth).toBeLessThan(ALLOWED_GROWTH_MB);
      expect(transportFailures.length).toBeLessThanOrEqual(MAX_TRANSPORT_FAILURES);
    });
  }, 180_000);
});
