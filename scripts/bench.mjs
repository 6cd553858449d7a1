// npm run bench: figures, not assertions. Starts the built service against the Gemini
// emulator (each in a process of its own, on loopback) and measures what a client sees:
//   - time to first delta, streaming through the service vs straight from the emulator;
//   - a whole non-streaming turn, through the service vs one generateContent call;
//   - turns per second with many sessions at once.
// Then the service against its "lean arm" (scripts/lean-turn.mjs: node:http + better-sqlite3 +
// fetch, the floor this platform sets for a turn), same client, same emulator, both preloaded
// with scripts/bench-probe.mjs (peak RSS, event-loop delay, read over an IPC channel):
//   a. saturated turns/s, 64 clients on continuing sessions;  b. one turn at a time, p50;
//   c. 1,000 turns at once with Gemini taking 2 s each (fresh server processes per burst, the
//      1,000 client connections open beforehand);
//   d. (service) a turn on a 1,000-message session vs a 10-message one;
//   e. (service) GET /sessions/:id/history of 1,100 messages;
//   f. (service) attachments: a turn with a new 1 MiB PNG on a session whose three earlier turns
//      each carried another (four files inline, 5.3 MB of base64 to Gemini) vs a text turn on a
//      session of three text turns; the service's peak RSS meanwhile; reads of the files' bytes
//      per turn per file (gemini_chat_file_reads_total, GET /metrics); then the peak RSS above
//      idle while one file just under FILE_MAX_BYTES (20 MiB) is uploaded, in copies of it
//      (fresh servers). `node scripts/bench.mjs --only attachments` (after `npm run build`)
//      runs f alone; BENCH_ATTACHMENT_TURNS (default 30) sets its samples of each kind.
// Warm-up is excluded; a, b and c run BENCH_ROUNDS rounds (default 3), the arms alternating,
// and report the median of the rounds. On SQLite (the default), or with --postgres on a
// throw-away PostgreSQL server (fsync on) for the service — the lean arm stays on SQLite.
// BENCH_RUNS (default 100) sets the samples of the first section, of b per round and of e.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { crc32, deflateSync } from 'node:zlib';
import { startPostgres } from './postgres.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENT_SESSIONS = 20;
const TURNS_PER_SESSION = 10;
const SATURATING_CLIENTS = 64;
const SATURATED_TURNS_EACH = 20;
const HISTORY_TURNS = 3; // "continuing" sessions have this many turns before they are measured
const BURST = 1000;
const BURST_DELAY_MS = 2000;
const BIG_SESSION_TURNS = 500; // 1,000 messages
const BIG_SESSION_SAMPLES = 50; // and 1,100 once measured: the history figure reads that
const MiB = 2 ** 20;
const ATTACHMENT_TURNS = Number(process.env.BENCH_ATTACHMENT_TURNS ?? 30); // of each kind
const ATTACHMENT_BYTES = MiB;
const ATTACHMENT_HISTORY = 3; // earlier turns, one file each
const UPLOAD_BYTES = 20 * MiB - 64 * 1024; // just under FILE_MAX_BYTES (20 MiB by default)
const UPLOAD_SERVERS = 3; // one upload on each, a fresh server each time
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
if (ONLY !== null && ONLY !== 'attachments') throw new Error(`--only ${ONLY}: only "attachments" runs alone`);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// The emulator (GeminiEmulator) in a process of its own, so the client's work never delays
// its answers: answering at once, but for the bursts (setDefaultReply, asked over IPC).
const EMULATOR = `
  const { GeminiEmulator } = await import(process.argv[1]);
  const emulator = new GeminiEmulator();
  process.send({ url: await emulator.start(0, '127.0.0.1') });
  process.on('message', (reply) => { emulator.setDefaultReply(reply); process.send({ url: emulator.baseUrl }); });
  process.on('disconnect', () => process.exit(0));`;
const emulatorProcess = spawn(
  process.execPath,
  ['--input-type=module', '-e', EMULATOR, new URL('../dist/gemini/emulator/gemini-emulator.js', import.meta.url).href],
  { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
const emulatorSays = () => new Promise((resolve) => emulatorProcess.once('message', resolve));
const emulator = {
  setDefaultReply: (reply) => {
    const said = emulatorSays();
    emulatorProcess.send(reply);
    return said;
  },
  stop: () => {
    const exited = new Promise((resolve) => emulatorProcess.once('exit', resolve));
    emulatorProcess.kill('SIGTERM');
    return exited;
  },
};
const { url: geminiUrl } = await emulatorSays();
const dataDir = mkdtempSync(join(tmpdir(), 'bench-'));
const postgres = process.argv.includes('--postgres') ? await startPostgres({ durable: true }) : null;
const servers = new Set();
let databases = 0;

/** The service or the lean arm as a child process with the probe preloaded; `probe()` asks it. */
async function startServer(arm, extraEnv = {}) {
  const n = ++databases;
  const env = { PATH: process.env.PATH, PORT: '0', GEMINI_BASE_URL: geminiUrl, GEMINI_API_KEY: 'bench', ...extraEnv };
  const script = arm === 'service' ? 'dist/main.js' : 'scripts/lean-turn.mjs';
  if (arm === 'service') {
    env.DATABASE_URL = postgres ? postgres.url : `sqlite:${join(dataDir, `chat-${n}.db`)}`;
    // The bench is one user sending hundreds of turns a minute.
    env.RATE_LIMIT_PER_MINUTE = '1000000';
  } else {
    env.LEAN_DB = join(dataDir, `lean-${n}.db`);
  }
  const child = spawn(process.execPath, ['--import', './scripts/bench-probe.mjs', script], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    exited.then((code) => reject(new Error(`${arm} exited with ${code}`)));
  });
  const server = {
    arm,
    url,
    /** `hiwater` (a reset): the kernel's peak RSS starts over too (maxRssBytes since this reset). */
    probe(what, { hiwater = false } = {}) {
      const answer = what === 'read' ? 'stats' : 'reset';
      return new Promise((resolve) => {
        const on = (message) => {
          if (message?.probe !== answer) return;
          child.off('message', on);
          resolve(message);
        };
        child.on('message', on);
        child.send({ probe: what, hiwater });
      });
    },
    async stop() {
      servers.delete(server);
      child.kill('SIGTERM');
      await exited;
    },
  };
  servers.add(server);
  return server;
}

const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'How far is the Moon?' }] }] };
const range = (n) => Array.from({ length: n }, (_, i) => i);

async function newSession(base, userId = 'bench') {
  const response = await fetch(`${base}/sessions`, json({ user_id: userId }));
  if (response.status !== 201) throw new Error(`POST /sessions answered ${response.status}: ${await response.text()}`);
  return (await response.json()).session_id;
}

/** One non-streaming turn, its answer read whole. */
async function turn(base, sessionId, message = 'How far is the Moon?') {
  const response = await fetch(`${base}/sessions/${sessionId}/messages`, json({ message }));
  if (response.status !== 201) throw new Error(`turn answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/** Sessions that already hold `turns` turns, `parallel` built at a time; one user per session. */
async function continuingSessions(base, count, turns, tag, parallel = 64) {
  const ids = [];
  for (let from = 0; from < count; from += parallel) {
    const batch = await Promise.all(
      range(Math.min(parallel, count - from)).map(async (i) => {
        const id = await newSession(base, `bench-${tag}-${from + i}`);
        for (let t = 0; t < turns; t++) await turn(base, id, `warm-up ${t}`);
        return id;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

/** JIT and caches warm before anything is timed: many sessions at once, then one at a time. */
async function warmUp(base, tag) {
  await continuingSessions(base, 64, 10, `${tag}-warm`);
  const [id] = await continuingSessions(base, 1, 0, `${tag}-warm-seq`);
  for (let i = 0; i < 100; i++) await turn(base, id, `warm-up ${i}`);
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

function quantile(samples, q) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const median = (samples) => quantile(samples, 0.5);

function summary(label, samples) {
  return `${label.padEnd(46)} median ${quantile(samples, 0.5).toFixed(2).padStart(7)} ms   p95 ${quantile(samples, 0.95).toFixed(2).padStart(7)} ms   (n=${samples.length})`;
}

/** The first section, as it always was: the service alone against the emulator. */
async function firstFigures(service) {
  const serviceUrl = service.url;
  const direct = { ttfd: [], turn: [] };
  const through = { ttfd: [], turn: [] };
  for (let i = 0; i < RUNS; i++) {
    direct.ttfd.push(
      await timeToFirst(
        `${geminiUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
        { ...json(geminiBody), headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench' } },
        'data: ',
      ),
    );
    const sse = await newSession(serviceUrl);
    through.ttfd.push(
      await timeToFirst(
        `${serviceUrl}/sessions/${sse}/messages`,
        { ...json({ message: 'How far is the Moon?' }), headers: { 'content-type': 'application/json', accept: 'text/event-stream' } },
        'event: delta',
      ),
    );
    direct.turn.push(
      await timed(async () => {
        const r = await fetch(`${geminiUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
          ...json(geminiBody),
          headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench' },
        });
        await r.json();
      }),
    );
    const plain = await newSession(serviceUrl);
    through.turn.push(await timed(() => turn(serviceUrl, plain)));
  }

  const sessions = await Promise.all(range(CONCURRENT_SESSIONS).map(() => newSession(serviceUrl)));
  const started = performance.now();
  await Promise.all(
    sessions.map(async (id) => {
      for (let t = 0; t < TURNS_PER_SESSION; t++) await turn(serviceUrl, id, `turn ${t}`);
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  const database = postgres ? 'PostgreSQL 15, fsync on' : 'SQLite WAL synchronous=FULL';
  console.log(`gemini-chat-api bench (node ${process.version}, emulator on loopback, ${database})`);
  console.log(summary('time to first delta, straight from emulator', direct.ttfd));
  console.log(summary('time to first delta, through the service', through.ttfd));
  console.log(summary('one turn, generateContent straight', direct.turn));
  console.log(summary('one turn, POST /sessions/:id/messages', through.turn));
  const total = CONCURRENT_SESSIONS * TURNS_PER_SESSION;
  console.log(
    `${`${total} turns over ${CONCURRENT_SESSIONS} sessions at once`.padEnd(46)} ${(total / seconds).toFixed(0)} turns/s (${seconds.toFixed(2)} s)`,
  );
}

/** a. 64 clients, each on its own continuing session, turns back to back: turns/s. */
async function saturated(server, round) {
  const sessions = await continuingSessions(server.url, SATURATING_CLIENTS, HISTORY_TURNS, `sat${round}`);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    sessions.map(async (id) => {
      for (let t = 0; t < SATURATED_TURNS_EACH; t++) await turn(server.url, id, `turn ${t}`);
    }),
  );
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { turnsPerSecond: (SATURATING_CLIENTS * SATURATED_TURNS_EACH * 1000) / ms, benchCpu: (used.user + used.system) / 1000 / ms };
}

/** b. One client, one turn at a time, rotating over 10 continuing sessions: p50 ms. */
async function oneAtATime(server, round) {
  const sessions = await continuingSessions(server.url, 10, HISTORY_TURNS, `seq${round}`);
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(await timed(() => turn(server.url, sessions[i % sessions.length], `turn ${i}`)));
  return median(samples);
}

/**
 * c. A fresh server, warmed up, with 1,000 empty sessions (one user each); then the emulator
 * takes 2 s per answer and one turn per session is sent, all at once.
 */
async function burst(arm, round) {
  const server = await startServer(arm);
  try {
    await warmUp(server.url, `burst${round}`);
    const sessions = [];
    for (let from = 0; from < BURST; from += 50) {
      sessions.push(...(await Promise.all(range(50).map((i) => newSession(server.url, `burst${round}-${from + i}`)))));
    }
    // The 1,000 clients are connected already (keep-alive), as behind a proxy: 1,000 new TCP
    // connections at once would overflow the listen backlog (511) of either server, and the
    // kernel's 1 s SYN retry would then be most of what is measured.
    await Promise.all(sessions.map(async () => (await fetch(`${server.url}/health`)).arrayBuffer()));
    await server.probe('reset');
    await emulator.setDefaultReply({ delayMs: BURST_DELAY_MS });
    const overflowsBefore = listenOverflows();
    const started = performance.now();
    const outcomes = await Promise.all(
      sessions.map(async (id) => {
        try {
          const response = await fetch(`${server.url}/sessions/${id}/messages`, json({ message: 'How far is the Moon?' }));
          const body = await response.text();
          return {
            ok: response.status === 201,
            what: response.status === 201 ? null : `${response.status} ${body.slice(0, 160)}`,
            at: performance.now(),
          };
        } catch (error) {
          return { ok: false, what: `fetch failed: ${error.cause?.code ?? error.cause?.message ?? error.message}`, at: performance.now() };
        }
      }),
    );
    const seconds = (Math.max(...outcomes.map((o) => o.at)) - started) / 1000;
    const stats = await server.probe('read');
    const overflows = overflowsBefore === null ? null : listenOverflows() - overflowsBefore;
    const failures = outcomes.filter((o) => !o.ok).map((o) => o.what);
    return { seconds, rssMb: stats.rssPeakBytes / 2 ** 20, maxRssMb: stats.maxRssBytes / 2 ** 20, eld: stats.eld, failures, overflows };
  } finally {
    await emulator.setDefaultReply({});
    await server.stop();
  }
}

/** Linux: connections refused a place in a full accept queue, machine-wide (null elsewhere). */
function listenOverflows() {
  try {
    const [names, values] = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    return Number(values.split(' ')[names.split(' ').indexOf('ListenOverflows')]);
  } catch {
    return null;
  }
}

/** d and e, the service alone. */
async function longSessions(service) {
  const big = await newSession(service.url, 'bench-long');
  for (let t = 0; t < BIG_SESSION_TURNS; t++) await turn(service.url, big, `turn ${t}`);
  const small = await continuingSessions(service.url, BIG_SESSION_SAMPLES, 5, 'short'); // 10 messages each
  const onSmall = [];
  const onBig = [];
  for (let i = 0; i < BIG_SESSION_SAMPLES; i++) {
    onSmall.push(await timed(() => turn(service.url, small[i], 'How far is the Moon?')));
    onBig.push(await timed(() => turn(service.url, big, 'How far is the Moon?')));
  }
  const historyUrl = `${service.url}/sessions/${big}/history`;
  const fetchHistory = async () => {
    const response = await fetch(historyUrl);
    if (response.status !== 200) throw new Error(`history answered ${response.status}`);
    return response.json();
  };
  const { messages } = await fetchHistory();
  for (let i = 0; i < 10; i++) await fetchHistory(); // warm-up
  const history = [];
  for (let i = 0; i < RUNS; i++) history.push(await timed(fetchHistory));
  return {
    small: median(onSmall),
    big: median(onBig),
    bigMessages: `${BIG_SESSION_TURNS * 2}→${BIG_SESSION_TURNS * 2 + BIG_SESSION_SAMPLES * 2}`,
    historyMessages: messages.length,
    history: median(history),
  };
}

/**
 * A PNG of `size` bytes: a real 1024×1024 black greyscale image (IHDR, one IDAT) padded with a
 * private ancillary chunk (`bnCh`, which viewers skip) of random bytes — as incompressible as a
 * photo's IDAT, so no layer gets the bytes cheaper than a real image's.
 */
function pngOfSize(size, width = 1024, height = 1024) {
  const u32 = (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const chunk = (type, data) => {
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    return Buffer.concat([u32(data.length), typed, u32(crc32(typed))]);
  };
  const head = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', Buffer.concat([u32(width), u32(height), Buffer.from([8, 0, 0, 0, 0])])),
    chunk('IDAT', deflateSync(Buffer.alloc((width + 1) * height))),
  ]);
  const end = chunk('IEND', Buffer.alloc(0));
  const padding = size - head.length - end.length - 12;
  if (padding < 0) throw new Error(`a ${width}×${height} PNG takes more than ${size} bytes`);
  return Buffer.concat([head, chunk('bnCh', randomBytes(padding)), end]);
}

/** POST /files: the file's id. */
async function uploadFile(base, userId, bytes, name = 'image.png') {
  const response = await fetch(`${base}/files?user_id=${userId}&name=${name}`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: bytes,
  });
  if (response.status !== 201) throw new Error(`POST /files answered ${response.status}: ${await response.text()}`);
  return (await response.json()).file_id;
}

async function attachmentTurn(base, sessionId, message, fileId) {
  const response = await fetch(`${base}/sessions/${sessionId}/messages`, json({ message, attachments: [{ file_id: fileId }] }));
  if (response.status !== 201) throw new Error(`turn answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/** gemini_chat_file_reads_total and _read_bytes_total by purpose, from GET /metrics. */
async function fileReads(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const of = (name) =>
    Object.fromEntries([...text.matchAll(new RegExp(`^${name}\\{purpose="(\\w+)"\\} (\\S+)$`, 'gm'))].map((m) => [m[1], Number(m[2])]));
  return { reads: of('gemini_chat_file_reads_total'), bytes: of('gemini_chat_file_read_bytes_total') };
}

/**
 * f. Turns with attachments, the service alone (METRICS_ENABLED, for the read counter): sessions
 * whose three earlier turns each carried a different 1 MiB PNG (the same three in every such
 * session), then one timed turn on each carrying a new 1 MiB PNG (a different one each turn,
 * uploaded beforehand): four files inline. Against a text turn on a session of three text turns.
 * In blocks, text and attachments alternating, the probe reset before and read after each block.
 */
async function attachmentTurns() {
  const service = await startServer('service', { METRICS_ENABLED: 'true' });
  try {
    const base = service.url;
    const user = 'bench-files';
    const history = [];
    for (let i = 0; i < ATTACHMENT_HISTORY; i++)
      history.push(await uploadFile(base, user, pngOfSize(ATTACHMENT_BYTES), `earlier-${i}.png`));
    const fresh = [];
    for (let i = 0; i < ATTACHMENT_TURNS + 5; i++) fresh.push(await uploadFile(base, user, pngOfSize(ATTACHMENT_BYTES), `new-${i}.png`));
    const withFiles = [];
    const textOnly = [];
    for (let i = 0; i < ATTACHMENT_TURNS + 5; i++) {
      const id = await newSession(base, user);
      for (let t = 0; t < ATTACHMENT_HISTORY; t++) await attachmentTurn(base, id, `What is in picture ${t}?`, history[t]);
      withFiles.push(id);
      const text = await newSession(base, user);
      for (let t = 0; t < ATTACHMENT_HISTORY; t++) await turn(base, text, `warm-up ${t}`);
      textOnly.push(text);
    }
    // Warm-up: five of each, not timed.
    for (let i = 0; i < 5; i++) {
      await turn(base, textOnly.pop(), 'How far is the Moon?');
      await attachmentTurn(base, withFiles.pop(), 'And this one?', fresh.pop());
    }
    // The same four files straight to the emulator's generateContent, base64 inline, in one
    // request: what Gemini's side (here the emulator) and the request's size cost by themselves.
    const images = [0, 1, 2, 3].map(() => pngOfSize(ATTACHMENT_BYTES).toString('base64'));
    const straightBody = JSON.stringify({
      contents: [
        { role: 'user', parts: [...images.map((data) => ({ inlineData: { mimeType: 'image/png', data } })), { text: 'And this one?' }] },
      ],
    });
    const straight = async () => {
      const response = await fetch(`${geminiUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench' },
        body: straightBody,
      });
      if (response.status !== 200) throw new Error(`the emulator answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };
    const samples = { text: [], files: [], straight: [] };
    const peaks = { text: [], files: [] };
    const baselines = [];
    const readsBefore = await fileReads(base);
    const blocks = 6;
    for (let block = 0; block < blocks; block++) {
      const from = Math.floor((block * ATTACHMENT_TURNS) / blocks);
      const to = Math.floor(((block + 1) * ATTACHMENT_TURNS) / blocks);
      const order = block % 2 === 0 ? ['text', 'files'] : ['files', 'text'];
      for (const kind of order) {
        const { rssBytes } = await service.probe('reset', { hiwater: true });
        baselines.push(rssBytes);
        for (let i = from; i < to; i++) {
          samples[kind].push(
            await timed(() =>
              kind === 'text'
                ? turn(base, textOnly[i], 'How far is the Moon?')
                : attachmentTurn(base, withFiles[i], 'And this one?', fresh[i]),
            ),
          );
        }
        const stats = await service.probe('read');
        peaks[kind].push(Math.max(stats.rssPeakBytes, stats.maxRssBytes));
      }
      for (let i = from; i < to; i++) samples.straight.push(await timed(straight));
    }
    const readsAfter = await fileReads(base);
    const inlineReads = (readsAfter.reads.inline ?? 0) - (readsBefore.reads.inline ?? 0);
    const otherReads =
      Object.values(readsAfter.reads).reduce((a, b) => a + b, 0) -
      Object.values(readsBefore.reads).reduce((a, b) => a + b, 0) -
      inlineReads;
    const filesSent = ATTACHMENT_TURNS * (ATTACHMENT_HISTORY + 1);
    return {
      text: samples.text,
      files: samples.files,
      straight: samples.straight,
      idleMb: Math.min(...baselines) / MiB,
      textPeakMb: Math.max(...peaks.text) / MiB,
      filesPeakMb: Math.max(...peaks.files) / MiB,
      readsPerFile: inlineReads / filesSent,
      mbPerFile: ((readsAfter.bytes.inline ?? 0) - (readsBefore.bytes.inline ?? 0)) / filesSent / MiB,
      otherReads,
    };
  } finally {
    await service.stop();
  }
}

/**
 * f. One upload of a file just under FILE_MAX_BYTES on a fresh server, warmed up with twenty
 * 1 MiB uploads (which also fill SQLite's page cache, 16 MB, as on a server that has run a
 * while): its peak RSS above the RSS just before (the kernel's high-water mark, reset then), in
 * copies of the file.
 */
async function bigUpload(round) {
  const service = await startServer('service');
  try {
    const user = `bench-upload-${round}`;
    const warmUps = 20;
    for (let i = 0; i < warmUps; i++) await uploadFile(service.url, user, pngOfSize(ATTACHMENT_BYTES), 'warm-up.png');
    const bytes = pngOfSize(UPLOAD_BYTES, 4096, 4096);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the warm-up's garbage, collected or not, settles
    const { rssBytes } = await service.probe('reset', { hiwater: true });
    const ms = await timed(() => uploadFile(service.url, user, bytes, 'big.png'));
    const stats = await service.probe('read');
    const peak = Math.max(stats.rssPeakBytes, stats.maxRssBytes);
    return { ms, idleMb: rssBytes / MiB, addedMb: (peak - rssBytes) / MiB, copies: (peak - rssBytes) / UPLOAD_BYTES };
  } finally {
    await service.stop();
  }
}

async function attachments() {
  const turns = await attachmentTurns();
  const uploads = [];
  for (let round = 0; round < UPLOAD_SERVERS; round++) uploads.push(await bigUpload(round));
  const added = median(turns.files) - median(turns.text);
  const q = (xs, p) => fmt(quantile(xs, p));
  console.log(
    `  f. service turn with a new 1 MiB PNG on a session whose ${ATTACHMENT_HISTORY} earlier turns carried one each (4 files inline), vs a text turn after ${ATTACHMENT_HISTORY} text turns (${ATTACHMENT_TURNS} each, in alternating blocks):`,
  );
  console.log(
    `       p50/p95 ${q(turns.files, 0.5)}/${q(turns.files, 0.95)} ms vs ${q(turns.text, 0.5)}/${q(turns.text, 0.95)} ms: +${fmt(added)} ms at p50; ` +
      `the four files straight to the emulator, inline in one generateContent: p50/p95 ${q(turns.straight, 0.5)}/${q(turns.straight, 0.95)} ms`,
  );
  console.log(
    `       peak RSS ${fmt(turns.filesPeakMb, 0)} MB during the attachment turns, ${fmt(turns.textPeakMb, 0)} MB during the text turns (RSS at the blocks' start ≥ ${fmt(turns.idleMb, 0)} MB)`,
  );
  console.log(
    `       file bytes read per turn per file: ${fmt(turns.readsPerFile)} (${fmt(turns.mbPerFile)} MiB; other reads: ${turns.otherReads}), gemini_chat_file_reads_total{purpose="inline"}`,
  );
  const list = (xs, digits) => xs.map((x) => fmt(x, digits)).join(', ');
  console.log(
    `  f. service upload of ${fmt(UPLOAD_BYTES / MiB)} MiB, one each on ${UPLOAD_SERVERS} fresh servers: ${list(
      uploads.map((u) => u.ms),
      0,
    )} ms; peak RSS above idle (${list(
      uploads.map((u) => u.idleMb),
      0,
    )} MB) ${list(
      uploads.map((u) => u.addedMb),
      0,
    )} MB = ${list(
      uploads.map((u) => u.copies),
      2,
    )} copies of the file`,
  );
  return { turns, added, copies: median(uploads.map((u) => u.copies)) };
}

const fmt = (x, digits = 2) => (x === null || x === undefined ? '—' : typeof x === 'string' ? x : x.toFixed(digits));
const arms = (round) => (round % 2 === 0 ? ['service', 'lean'] : ['lean', 'service']);

async function measure() {
  const started = performance.now();
  const fast = { service: await startServer('service'), lean: await startServer('lean') };
  await firstFigures(fast.service);

  for (const arm of ['service', 'lean']) await warmUp(fast[arm].url, 'fast');
  const rounds = { service: { sat: [], cpu: [], p50: [] }, lean: { sat: [], cpu: [], p50: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const arm of arms(round)) {
      const { turnsPerSecond, benchCpu } = await saturated(fast[arm], round);
      rounds[arm].sat.push(turnsPerSecond);
      rounds[arm].cpu.push(benchCpu);
    }
    for (const arm of arms(round)) rounds[arm].p50.push(await oneAtATime(fast[arm], round));
  }
  await fast.lean.stop();
  const long = await longSessions(fast.service);
  await fast.service.stop();

  const bursts = { service: [], lean: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const arm of arms(round)) bursts[arm].push(await burst(arm, round));
  }
  const seconds = (performance.now() - started) / 1000;

  // Details, per round.
  const list = (xs, digits) => xs.map((x) => fmt(x, digits)).join(', ');
  console.log();
  console.log(`service vs lean arm (scripts/lean-turn.mjs), ${ROUNDS} rounds, arms alternating, medians of the rounds`);
  console.log(
    `service on ${postgres ? 'PostgreSQL (fsync on); the lean arm stays on SQLite WAL synchronous=FULL' : 'SQLite WAL synchronous=FULL, as the lean arm'}`,
  );
  for (const arm of ['service', 'lean']) {
    const r = rounds[arm];
    console.log(
      `  a. ${arm.padEnd(7)} turns/s, ${SATURATING_CLIENTS} clients × ${SATURATED_TURNS_EACH} turns: ${list(r.sat, 0)}  (bench client process CPU: ${list(
        r.cpu.map((c) => c * 100),
        0,
      )} % of a core)`,
    );
  }
  for (const arm of ['service', 'lean'])
    console.log(`  b. ${arm.padEnd(7)} one turn p50 ms (${RUNS} turns a round): ${list(rounds[arm].p50)}`);
  for (const arm of ['service', 'lean']) {
    const b = bursts[arm];
    console.log(
      `  c. ${arm.padEnd(7)} burst of ${BURST}, ${BURST_DELAY_MS} ms each: all answered in ${list(b.map((x) => x.seconds))} s; peak RSS ${list(
        b.map((x) => x.rssMb),
        0,
      )} MB ` +
        `(maxRSS ${list(
          b.map((x) => x.maxRssMb),
          0,
        )}); loop delay p50/p99/max ${b.map((x) => `${fmt(x.eld.p50Ms, 1)}/${fmt(x.eld.p99Ms, 1)}/${fmt(x.eld.maxMs, 1)}`).join(', ')} ms; non-2xx ${b.map((x) => x.failures.length).join(', ')}; accept-queue overflows ${b.map((x) => x.overflows ?? '?').join(', ')}`,
    );
  }
  console.log(
    `  d. service one turn p50: ${fmt(long.small)} ms on 10-message sessions, ${fmt(long.big)} ms on the ${long.bigMessages}-message session (${BIG_SESSION_SAMPLES} turns each, interleaved)`,
  );
  console.log(
    `  e. service GET /sessions/:id/history, ${long.historyMessages} messages in one answer (the route does not page): p50 ${fmt(long.history)} ms (n=${RUNS})`,
  );
  const files = await attachments();

  const med = (arm, key) => median(rounds[arm][key]);
  const burstMed = (arm, key) => median(bursts[arm].map(key));
  const rows = [];
  const row = (figure, service, lean, ratio, goal, met) =>
    rows.push([figure, fmt(service), fmt(lean), fmt(ratio), goal, met === null ? '—' : met ? 'yes' : 'NO']);
  const sat = { s: med('service', 'sat'), l: med('lean', 'sat') };
  row('a. saturated turns/s (64 clients)', fmt(sat.s, 0), fmt(sat.l, 0), sat.s / sat.l, 'ratio ≥ 0.70', sat.s / sat.l >= 0.7);
  const p50 = { s: med('service', 'p50'), l: med('lean', 'p50') };
  row('b. one turn p50 ms (added over lean)', p50.s, p50.l, `+${fmt(p50.s - p50.l)} ms`, 'added ≤ 0.6 ms', p50.s - p50.l <= 0.6);
  const all = { s: burstMed('service', (x) => x.seconds), l: burstMed('lean', (x) => x.seconds) };
  row(`c. burst ${BURST}: all answered, s`, all.s, all.l, all.s / all.l, 'ratio ≤ 1.25', all.s / all.l <= 1.25);
  const rss = { s: burstMed('service', (x) => x.rssMb), l: burstMed('lean', (x) => x.rssMb) };
  row('c. burst: peak RSS, MB', fmt(rss.s, 0), fmt(rss.l, 0), rss.s / rss.l, 'ratio ≤ 1.5', rss.s / rss.l <= 1.5);
  row(
    'c. burst: event-loop delay p99, ms',
    burstMed('service', (x) => x.eld.p99Ms),
    burstMed('lean', (x) => x.eld.p99Ms),
    null,
    '(figure)',
    null,
  );
  const failed = { s: bursts.service.flatMap((x) => x.failures), l: bursts.lean.flatMap((x) => x.failures) };
  row(
    'c. burst: non-2xx answers, all rounds',
    String(failed.s.length),
    String(failed.l.length),
    null,
    '0',
    failed.s.length + failed.l.length === 0,
  );
  row(
    'd. turn p50, 1,000 vs 10 messages',
    `${fmt(long.big)} / ${fmt(long.small)}`,
    null,
    long.big / long.small,
    'ratio ≤ 1.6',
    long.big / long.small <= 1.6,
  );
  row(`e. GET history (${long.historyMessages} msgs) p50 ms`, long.history, null, null, '≤ 3 ms', long.history <= 3);
  row('f. turn with 4 × 1 MiB inline, added p50 ms', `+${fmt(files.added)}`, null, null, '(figure)', null);
  row('f. file bytes read per turn per file', files.turns.readsPerFile, null, null, '≤ 1', files.turns.readsPerFile <= 1);
  row('f. 20 MiB upload: peak RSS, copies of it', files.copies, null, null, '≈ 2', files.copies <= 2.25);

  const header = ['figure', 'service', 'lean', 'ratio', 'goal', 'met?'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  console.log();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
  console.log(`(${seconds.toFixed(0)} s for the service-vs-lean part)`);

  if (failed.s.length + failed.l.length > 0) {
    const counts = (xs) => {
      const by = new Map();
      for (const what of xs) by.set(what, (by.get(what) ?? 0) + 1);
      return [...by].map(([what, n]) => `${n} × ${what}`).join('; ');
    };
    console.error(`\nBURST FAILURES — service: ${counts(failed.s) || 'none'}; lean: ${counts(failed.l) || 'none'}`);
    process.exitCode = 1;
  }
}

async function shutDown() {
  await Promise.all([...servers].map((server) => server.stop()));
  await emulator.stop();
  postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

try {
  if (ONLY === 'attachments') {
    console.log(
      `gemini-chat-api bench, f. attachments only (node ${process.version}, emulator on loopback, ${postgres ? 'PostgreSQL 15, fsync on' : 'SQLite WAL synchronous=FULL'})`,
    );
    await attachments();
  } else {
    await measure();
  }
} finally {
  await shutDown();
}
