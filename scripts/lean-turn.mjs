// The lean arm of `npm run bench`: the floor this platform (Node, node:http, better-sqlite3,
// global fetch) sets for one chat turn, with no framework. Per turn it does exactly this:
// parse the JSON body, load the session's history with a prepared statement, call Gemini's
// generateContent with the whole history plus the new message, store both messages in one
// transaction (WAL, synchronous = FULL: the service's pragmas), answer the two messages.
//   POST /sessions                   → 201 {"session_id": …}
//   POST /sessions/:id/messages      → 201 {"session_id", "user_message", "model_message"}
// Env: PORT (0: any), LEAN_DB (SQLite file), GEMINI_BASE_URL, GEMINI_API_KEY.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const MODEL = 'gemini-2.5-flash';
const GEMINI_URL = `${process.env.GEMINI_BASE_URL}/v1beta/models/${MODEL}:generateContent`;
const API_KEY = process.env.GEMINI_API_KEY ?? '';

const db = new Database(process.env.LEAN_DB ?? 'lean.db');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
db.exec(`
  CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
    prompt_tokens INTEGER, output_tokens INTEGER, thoughts_tokens INTEGER, total_tokens INTEGER);
  CREATE INDEX IF NOT EXISTS idx_messages_session ON messages (session_id, id);`);
const insertSession = db.prepare('INSERT INTO sessions (id, created_at) VALUES (?, ?)');
const history = db.prepare('SELECT role, content FROM messages WHERE session_id = ? ORDER BY id');
const insertMessage = db.prepare(
  `INSERT INTO messages (session_id, created_at, role, content, prompt_tokens, output_tokens, thoughts_tokens, total_tokens)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
);
const storeTurn = db.transaction((sessionId, message, receivedAt, reply, usage, answeredAt) => {
  const user = insertMessage.run(sessionId, receivedAt, 'user', message, null, null, null, null);
  const model = insertMessage.run(
    sessionId,
    answeredAt,
    'model',
    reply,
    usage.promptTokenCount ?? null,
    usage.candidatesTokenCount ?? null,
    usage.thoughtsTokenCount ?? null,
    usage.totalTokenCount ?? null,
  );
  return [Number(user.lastInsertRowid), Number(model.lastInsertRowid)];
});

const TURN_ROUTE = /^\/sessions\/([^/]+)\/messages$/;

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function turn(req, res, sessionId) {
  const receivedAt = new Date().toISOString();
  const { message } = await readJson(req);
  if (typeof message !== 'string' || message.length === 0) return answer(res, 400, { error: 'message: required' });
  const contents = history.all(sessionId).map(({ role, content }) => ({ role, parts: [{ text: content }] }));
  contents.push({ role: 'user', parts: [{ text: message }] });
  const upstream = await fetch(GEMINI_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': API_KEY },
    body: JSON.stringify({ contents }),
  });
  const body = await upstream.json();
  if (!upstream.ok) return answer(res, 502, { error: `Gemini answered ${upstream.status}` });
  const parts = body.candidates?.[0]?.content?.parts ?? [];
  const reply = parts
    .filter((part) => typeof part.text === 'string' && !part.thought)
    .map((part) => part.text)
    .join('');
  const usage = body.usageMetadata ?? {};
  const answeredAt = new Date().toISOString();
  let ids;
  try {
    ids = storeTurn(sessionId, message, receivedAt, reply, usage, answeredAt);
  } catch (error) {
    if (error?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return answer(res, 404, { error: 'no such session' });
    throw error;
  }
  answer(res, 201, {
    session_id: sessionId,
    user_message: { id: ids[0], role: 'user', content: message, created_at: receivedAt },
    model_message: { id: ids[1], role: 'model', content: reply, created_at: answeredAt, usage },
  });
}

const server = createServer((req, res) => {
  const match = req.method === 'POST' ? TURN_ROUTE.exec(req.url) : null;
  const work = match
    ? turn(req, res, decodeURIComponent(match[1]))
    : req.method === 'POST' && req.url === '/sessions'
      ? readJson(req).then(() => {
          const id = randomUUID();
          insertSession.run(id, new Date().toISOString());
          answer(res, 201, { session_id: id });
        })
      : Promise.resolve(answer(res, 404, { error: 'not found' }));
  work.catch((error) => {
    if (res.headersSent) res.destroy();
    else answer(res, error instanceof SyntaxError ? 400 : 500, { error: String(error?.message ?? error) });
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`lean-turn listening on http://127.0.0.1:${server.address().port}`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
