// node scripts/refusal-load.mjs: a figure, not an assertion (docs/performance.md, "Refusing
// stays cheap"). Starts the built service (offline, SQLite in memory) and, ROUNDS times, posts
// four ~900 KB bodies of 60,000 unknown fields at once to POST /sessions while a fifth client
// asks GET /health; reports how long /health waited (median and worst of the rounds) and what
// the four refusals took. Run `npm run build` first; another build's main.js may be named as the
// argument (to compare with an earlier commit).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.ROUNDS ?? 20);
const FIELDS = 60_000;
const BODIES = 4;
const MAIN_JS = process.argv[2] ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));

// CONTROL=1: bodies of the same size with one unknown field, for what receiving them costs alone.
const body = process.env.CONTROL
  ? JSON.stringify({ x: 'a'.repeat(877_000) })
  : JSON.stringify(Object.fromEntries(Array.from({ length: FIELDS }, (_, i) => [`f${i}`, i])));

const server = spawn(process.execPath, [MAIN_JS], {
  env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', DATABASE_URL: 'sqlite::memory:', LOG_FORMAT: 'json' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const baseUrl = await new Promise((resolve, reject) => {
  let output = '';
  server.stdout.on('data', (chunk) => {
    output += chunk;
    const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
    if (match) resolve(match[1]);
  });
  server.on('exit', (code) => reject(new Error(`the service exited with ${code}:\n${output}`)));
});
server.stdout.resume();

/** One request on a connection of its own; resolves with its status, size and milliseconds. */
function call(method, path, payload) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(new URL(path, baseUrl), {
      method,
      agent: false,
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    request.on('response', (response) => {
      let bytes = 0;
      response.on('data', (chunk) => (bytes += chunk.length));
      response.on('end', () => resolve({ status: response.statusCode, bytes, ms: performance.now() - started }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const health = [];
const refusals = [];
await call('GET', '/health'); // warm-up
const quiet = [];
for (let round = 0; round < ROUNDS; round += 1) quiet.push((await call('GET', '/health')).ms);
for (let round = 0; round < ROUNDS; round += 1) {
  const posts = Array.from({ length: BODIES }, () => call('POST', '/sessions', body));
  // Asked once the bodies are on their way: it waits for whatever they make the event loop do.
  await new Promise((resolve) => setImmediate(resolve));
  const probe = await call('GET', '/health');
  health.push(probe.ms);
  for (const answer of await Promise.all(posts)) refusals.push(answer);
}
server.kill('SIGTERM');

const statuses = [...new Set(refusals.map(({ status }) => status))].join(', ');
const what = process.env.CONTROL ? 'one unknown field' : `${FIELDS.toLocaleString('en')} unknown fields`;
console.log(`${ROUNDS} rounds of ${BODIES} bodies of ${what} (${(body.length / 1024).toFixed(0)} KB) at once:`);
console.log(`  GET /health alone: median ${median(quiet).toFixed(1)} ms, worst ${Math.max(...quiet).toFixed(1)} ms`);
console.log(`  GET /health meanwhile: median ${median(health).toFixed(1)} ms, worst ${Math.max(...health).toFixed(1)} ms`);
console.log(
  `  the refusals: status ${statuses}, median ${median(refusals.map(({ ms }) => ms)).toFixed(1)} ms, ` +
    `worst ${Math.max(...refusals.map(({ ms }) => ms)).toFixed(1)} ms, ${Math.max(...refusals.map(({ bytes }) => bytes))} bytes at most`,
);
