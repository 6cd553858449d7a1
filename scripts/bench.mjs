// npm run bench: figures, not assertions. Starts the built service against the Gemini
// emulator (both on loopback) and measures what a client sees:
//   - time to first delta, streaming through the service vs straight from the emulator;
//   - a whole non-streaming turn, through the service vs one generateContent call;
//   - turns per second with many sessions at once.
// On SQLite (the default), or with --postgres on a throw-away PostgreSQL server (fsync on).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GeminiEmulator } from '../dist/gemini/emulator/gemini-emulator.js';
import { startPostgres } from './postgres.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const CONCURRENT_SESSIONS = 20;
const TURNS_PER_SESSION = 10;

const emulator = new GeminiEmulator();
const geminiUrl = await emulator.start(0, '127.0.0.1');
const dataDir = mkdtempSync(join(tmpdir(), 'bench-'));
const postgres = process.argv.includes('--postgres') ? await startPostgres({ durable: true }) : null;
const server = spawn(process.execPath, ['dist/main.js'], {
  env: {
    PATH: process.env.PATH,
    PORT: '0',
    DATABASE_URL: postgres ? postgres.url : `sqlite:${join(dataDir, 'chat.db')}`,
    GEMINI_BASE_URL: geminiUrl,
    GEMINI_API_KEY: 'bench',
    // The bench is one user sending hundreds of turns a minute.
    RATE_LIMIT_PER_MINUTE: '1000000',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const serviceUrl = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
    if (match) resolve(match[1]);
  });
  server.on('exit', (code) => reject(new Error(`service exited with ${code}`)));
});
server.stdout.resume();

const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'How far is the Moon?' }] }] };

async function newSession() {
  const response = await fetch(`${serviceUrl}/sessions`, json({ user_id: 'bench' }));
  return (await response.json()).session_id;
}

/** Milliseconds from sending the request until `marker` first appears in the body. */
async function timeToFirst(url, init, marker) {
  const started = performance.now();
  const response = await fetch(url, init);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let first = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (first === null && text.includes(marker)) first = performance.now() - started;
  }
  return first;
}

async function timed(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function summary(label, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `${label.padEnd(46)} median ${at(0.5).toFixed(2).padStart(7)} ms   p95 ${at(0.95).toFixed(2).padStart(7)} ms   (n=${sorted.length})`;
}

async function shutDown() {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.on('exit', resolve));
  await emulator.stop();
  postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

/** The measurements; the service and the emulator are stopped whatever happens. */
async function measure() {
  const direct = { ttfd: [], turn: [] };
  const service = { ttfd: [], turn: [] };
  for (let i = 0; i < RUNS; i++) {
    direct.ttfd.push(
      await timeToFirst(`${geminiUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, { ...json(geminiBody), headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench' } }, 'data: '),
    );
    const sse = await newSession();
    service.ttfd.push(
      await timeToFirst(`${serviceUrl}/sessions/${sse}/messages`, { ...json({ message: 'How far is the Moon?' }), headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, 'event: delta'),
    );
    direct.turn.push(
      await timed(async () => {
        const r = await fetch(`${geminiUrl}/v1beta/models/gemini-2.5-flash:generateContent`, { ...json(geminiBody), headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench' } });
        await r.json();
      }),
    );
    const plain = await newSession();
    service.turn.push(
      await timed(async () => {
        const r = await fetch(`${serviceUrl}/sessions/${plain}/messages`, json({ message: 'How far is the Moon?' }));
        if (r.status !== 201) throw new Error(`turn answered ${r.status}`);
        await r.json();
      }),
    );
  }

  const sessions = await Promise.all(Array.from({ length: CONCURRENT_SESSIONS }, newSession));
  const started = performance.now();
  await Promise.all(
    sessions.map(async (id) => {
      for (let turn = 0; turn < TURNS_PER_SESSION; turn++) {
        const r = await fetch(`${serviceUrl}/sessions/${id}/messages`, json({ message: `turn ${turn}` }));
        if (r.status !== 201) throw new Error(`turn answered ${r.status}`);
        await r.json();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  const database = postgres ? 'PostgreSQL 15, fsync on' : 'SQLite WAL synchronous=FULL';
  console.log(`gemini-chat-api bench (node ${process.version}, emulator on loopback, ${database})`);
  console.log(summary('time to first delta, straight from emulator', direct.ttfd));
  console.log(summary('time to first delta, through the service', service.ttfd));
  console.log(summary('one turn, generateContent straight', direct.turn));
  console.log(summary('one turn, POST /sessions/:id/messages', service.turn));
  const total = CONCURRENT_SESSIONS * TURNS_PER_SESSION;
  console.log(`${`${total} turns over ${CONCURRENT_SESSIONS} sessions at once`.padEnd(46)} ${(total / seconds).toFixed(0)} turns/s (${seconds.toFixed(2)} s)`);
}

try {
  await measure();
} finally {
  await shutDown();
}
