import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { join } from 'node:path';
import { GeminiEmulator } from '../../src/gemini/emulator/gemini-emulator.js';
import { requestJson, seededRandom } from '../support/crash-http.js';
import { explained } from '../support/explained.js';
import { elapse } from '../support/wait.js';
import type { JsonResponse } from '../support/crash-http.js';
import { runServer } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';

/**
 * Crash safety: the built server is killed with SIGKILL, at a random moment, while several
 * clients send turns, then restarted on the same SQLite file — again and again. Every turn that
 * got a 2xx must be stored exactly once, whole, with the reply and cost the client saw; a turn
 * cut by the kill may be stored or not, but only as a complete user/model pair.
 *
 * CRASH_SEED replays a run (the kill moments come from it); CRASH_ITERATIONS changes the count.
 */
const ITERATIONS = Math.max(10, Number(process.env.CRASH_ITERATIONS ?? 12));
const SEED = Number(process.env.CRASH_SEED ?? 20261122);
const KILL_AFTER_MS = { min: 50, max: 400 };
const SESSIONS = 5;
const SESSION_CLIENTS = 6;
const CHAT_CLIENTS = 2;

type Route = 'session' | 'chat-new' | 'chat-continue';

interface Sent {
  message: string;
  route: Route;
  /** The chat the turn was sent to; null for a /chat that starts a new chat. */
  target: string | null;
  userId: string;
  iteration: number;
  outcome: 'pending' | 'acked' | 'refused' | 'cut';
  status?: number;
}

interface Ack {
  message: string;
  route: Route;
  chatId: string;
  reply: string;
  costUsd: number;
  /** Row ids from the 201 of /sessions/:id/messages (the /chat answer has none). */
  userRowId?: number;
  modelRowId?: number;
  iteration: number;
}

interface Chat {
  kind: 'session' | 'chat';
  userId: string;
  /** The conversation as last seen through the API after a restart. */
  seen: { role: string; content: string }[];
}

interface Message {
  id?: number;
  role: string;
  content: string;
  cost_usd?: number | null;
  cost_status?: string;
}

/**
 * Each iteration starts the server, reads back every conversation and runs until its kill: about
 * 1.3 s on an idle machine, up to 4 s with both cores of a 2-core machine busy (47 s in all seen).
 */
const TIMEOUT_MS = ITERATIONS * 15_000;

describe('Crash safety', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crash-'));
  const databasePath = join(dir, 'chat.db');
  const emulator = new GeminiEmulator({ recordRequests: true });
  let server: ServerProcess | undefined;
  let agent: http.Agent | undefined;

  afterAll(async () => {
    try {
      if (server && server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    } finally {
      agent?.destroy();
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    `keeps every acknowledged turn exactly once across ${ITERATIONS} SIGKILLs under load (seed ${SEED})`,
    async () => {
      const started = Date.now();
      const geminiUrl = await emulator.start(0, '127.0.0.1');
      // Slow enough that most kills land while a turn waits for Gemini or is being stored.
      emulator.setDefaultReply({ delayMs: 5 });

      const killRandom = seededRandom(SEED);
      const killDelays = Array.from({ length: ITERATIONS }, () =>
        Math.round(KILL_AFTER_MS.min + killRandom() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min)),
      );
      const pick = seededRandom(SEED ^ 0x5eed);

      const sent = new Map<string, Sent>();
      const acks: Ack[] = [];
      const chats = new Map<string, Chat>();
      const sessionIds: string[] = [];
      const chatUsers = Array.from({ length: CHAT_CLIENTS }, (_, i) => `crash-chat-user-${i}`);
      const stats = { cut: 0, refused: 0, errorsBeforeKill: 0, orphanChats: 0, httpChecks: 0 };
      /** Requests that failed while the server still ran: none may. */
      const failedBeforeKill: string[] = [];
      let counter = 0;

      const newMessage = (iteration: number, route: Route) =>
        `crash seed=${SEED} it=${iteration} #${++counter} ${route} ${pick().toString(36).slice(2, 8)}`;

      const env = {
        DATABASE_URL: `sqlite:${databasePath}`,
        GEMINI_BASE_URL: geminiUrl,
        GEMINI_API_KEY: 'crash-test-key',
        GEMINI_RETRIES: '0',
        GEMINI_TIMEOUT_MS: '10000',
        RATE_LIMIT_PER_MINUTE: '1000000',
      };

      const fail = (iteration: number, problems: string[]) => {
        if (problems.length === 0) return;
        throw new Error(
          `iteration ${iteration} (seed ${SEED}, kill delays ${killDelays.join(',')}):\n  ${problems.slice(0, 40).join('\n  ')}` +
            (problems.length > 40 ? `\n  … and ${problems.length - 40} more` : '') +
            `\n--- server output (tail) ---\n${stripVTControlCharacters(server?.output() ?? '').slice(-2000)}`,
        );
      };

      /** Checks one conversation against what the clients sent and were told; returns problems. */
      const checkConversation = (chatId: string, chat: Chat, messages: Message[], owners: Map<string, string>): string[] => {
        const problems: string[] = [];
        const where = `${chat.kind} ${chatId}`;
        if (messages.length % 2 !== 0) problems.push(`${where}: odd number of messages (${messages.length}): a half-written turn`);
        messages.forEach((m, i) => {
          const expected = i % 2 === 0 ? 'user' : 'model';
          if (m.role !== expected) problems.push(`${where}: message ${i} is ${m.role}, expected ${expected}`);
        });
        chat.seen.forEach((old, i) => {
          const now = messages[i];
          if (!now || now.role !== old.role || now.content !== old.content) {
            problems.push(`${where}: message ${i} seen after an earlier restart is gone or changed (${JSON.stringify(old.content)})`);
          }
        });
        for (let i = 0; i + 1 < messages.length; i += 2) {
          const user = messages[i];
          const model = messages[i + 1];
          const origin = sent.get(user.content);
          if (!origin) {
            problems.push(`${where}: stored user message never sent: ${JSON.stringify(user.content)}`);
            continue;
          }
          const rightChat = origin.route === 'chat-new' ? i === 0 && origin.userId === chat.userId : origin.target === chatId;
          if (!rightChat) problems.push(`${where}: message ${JSON.stringify(user.content)} stored in the wrong chat (position ${i})`);
          if (origin.outcome === 'refused')
            problems.push(`${where}: refused turn (${origin.status}) stored: ${JSON.stringify(user.content)}`);
          const owner = owners.get(user.content);
          if (owner !== undefined) problems.push(`${where}: message ${JSON.stringify(user.content)} stored twice (also in ${owner})`);
          owners.set(user.content, chatId);
          if (!model.content.startsWith(`Echo: ${user.content}`)) {
            problems.push(
              `${where}: reply to ${JSON.stringify(user.content)} is not its own: ${JSON.stringify(model.content.slice(0, 80))}`,
            );
          }
          if (model.cost_status !== undefined && model.cost_status !== 'priced')
            problems.push(`${where}: reply ${i + 1} is ${model.cost_status}`);
        }
        for (const ack of acks.filter((a) => a.chatId === chatId)) {
          const at = messages.findIndex((m) => m.role === 'user' && m.content === ack.message);
          if (at < 0) {
            problems.push(`${where}: acknowledged turn lost: ${JSON.stringify(ack.message)} (acknowledged in iteration ${ack.iteration})`);
            continue;
          }
          const reply = messages[at + 1];
          if (reply?.content !== ack.reply)
            problems.push(`${where}: reply to ${JSON.stringify(ack.message)} differs from the one acknowledged`);
          if (reply?.cost_usd !== undefined && reply.cost_usd !== ack.costUsd) {
            problems.push(`${where}: cost of ${JSON.stringify(ack.message)} is ${reply.cost_usd}, acknowledged ${ack.costUsd}`);
          }
          if (ack.userRowId !== undefined && (messages[at].id !== ack.userRowId || reply?.id !== ack.modelRowId)) {
            problems.push(
              `${where}: ${JSON.stringify(ack.message)} has ids ${messages[at].id}/${reply?.id}, acknowledged ${ack.userRowId}/${ack.modelRowId}`,
            );
          }
        }
        return problems;
      };

      /** After a restart: health, then every known conversation through the API. */
      const verifyOverHttp = async (baseUrl: string, iteration: number) => {
        const problems: string[] = [];
        const get = (path: string) => requestJson(agent!, baseUrl, 'GET', path);
        const health = await get('/health');
        if (health.status !== 200) problems.push(`GET /health: ${health.status} ${JSON.stringify(health.body)}`);
        else expect(health.body).toMatchObject({ status: 'ok', database: 'up', gemini: 'configured' });

        for (const userId of chatUsers) {
          const list = await get(`/history/${userId}`);
          if (list.status !== 200) {
            problems.push(`GET /history/${userId}: ${list.status}`);
            continue;
          }
          const ids = new Set<string>(list.body.chat_sessions);
          for (const ack of acks) {
            if (ack.route !== 'session' && sent.get(ack.message)!.userId === userId && !ids.has(ack.chatId)) {
              problems.push(`chat ${ack.chatId} of ${userId} (acknowledged) missing from GET /history/${userId}`);
            }
          }
          for (const id of ids) {
            if (!chats.has(id)) {
              // A new chat whose first answer was lost in a kill: allowed, if whole (checked below).
              chats.set(id, { kind: 'chat', userId, seen: [] });
              stats.orphanChats += 1;
            }
          }
        }

        const owners = new Map<string, string>();
        const entries = [...chats.entries()];
        const conversations: (Message[] | null)[] = new Array(entries.length).fill(null);
        let next = 0;
        const worker = async () => {
          while (next < entries.length) {
            const index = next++;
            const [chatId, chat] = entries[index];
            const response: JsonResponse =
              chat.kind === 'session'
                ? await get(`/sessions/${chatId}/history`)
                : await get(`/history/${encodeURIComponent(chat.userId)}/${chatId}`);
            stats.httpChecks += 1;
            if (response.status !== 200) {
              problems.push(`${chat.kind} ${chatId}: history answered ${response.status} ${JSON.stringify(response.body)}`);
              continue;
            }
            conversations[index] = chat.kind === 'session' ? response.body.messages : response.body.history;
          }
        };
        await Promise.all(Array.from({ length: 6 }, worker));
        entries.forEach(([chatId, chat], index) => {
          const messages = conversations[index];
          if (!messages) return;
          problems.push(...checkConversation(chatId, chat, messages, owners));
          chat.seen = messages.map((m) => ({ role: m.role, content: m.content }));
        });
        fail(iteration, problems);
      };

      /** Sends turns until the server is killed; a request cut by the kill just ends the client. */
      const client = async (
        baseUrl: string,
        iteration: number,
        isKilled: () => boolean,
        next: () => Omit<Sent, 'message' | 'iteration' | 'outcome'>,
      ) => {
        while (!isKilled()) {
          const turn = next();
          const message = newMessage(iteration, turn.route);
          const record: Sent = { ...turn, message, iteration, outcome: 'pending' };
          sent.set(message, record);
          const path = turn.route === 'session' ? `/sessions/${turn.target}/messages` : '/chat';
          const body =
            turn.route === 'session' ? { message } : { user_id: turn.userId, message, ...(turn.target ? { chat_id: turn.target } : {}) };
          let response: JsonResponse;
          try {
            response = await requestJson(agent!, baseUrl, 'POST', path, body);
          } catch (error) {
            record.outcome = 'cut';
            stats.cut += 1;
            if (!isKilled()) {
              stats.errorsBeforeKill += 1;
              failedBeforeKill.push(`iteration ${iteration}: ${path} failed before the kill: ${String(error)}`);
            }
            return;
          }
          if (response.status < 200 || response.status >= 300) {
            record.outcome = 'refused';
            record.status = response.status;
            stats.refused += 1;
            continue;
          }
          record.outcome = 'acked';
          if (turn.route === 'session') {
            const b = response.body;
            acks.push({
              message,
              route: turn.route,
              chatId: b.session_id,
              reply: b.reply,
              costUsd: b.model_message.cost_usd,
              userRowId: b.user_message.id,
              modelRowId: b.model_message.id,
              iteration,
            });
          } else {
            const b = response.body;
            acks.push({ message, route: turn.route, chatId: b.chat_id, reply: b.response, costUsd: b.cost_usd, iteration });
            if (!chats.has(b.chat_id)) chats.set(b.chat_id, { kind: 'chat', userId: turn.userId, seen: [] });
          }
        }
      };

      for (let iteration = 0; iteration < ITERATIONS; iteration++) {
        agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
        emulator.requests.length = 0;
        server = runServer(env);
        const baseUrl = await server.ready;

        if (iteration === 0) {
          for (let i = 0; i < SESSIONS; i++) {
            const created = await requestJson(agent, baseUrl, 'POST', '/sessions', { user_id: `crash-owner-${i % 2}` });
            expect(created.status).toBe(201);
            sessionIds.push(created.body.session_id);
            chats.set(created.body.session_id, { kind: 'session', userId: created.body.user_id, seen: [] });
          }
        } else {
          await verifyOverHttp(baseUrl, iteration);
        }

        // One turn first, outside the kill clock: the first upstream call of a fresh process takes
        // ~100 ms (SDK and JIT warm-up), which would swallow the short kill delays.
        let warmedUp = false;
        await client(
          baseUrl,
          iteration,
          () => warmedUp,
          () => (
            (warmedUp = true),
            {
              route: 'session' as const,
              target: sessionIds[iteration % sessionIds.length],
              userId: '',
            }
          ),
        );
        expect(acks.at(-1)?.iteration).toBe(iteration);

        let killed = false;
        const isKilled = () => killed;
        const clients = [
          ...Array.from({ length: SESSION_CLIENTS }, () =>
            client(baseUrl, iteration, isKilled, () => ({
              route: 'session' as const,
              target: sessionIds[Math.floor(pick() * sessionIds.length)],
              userId: '',
            })),
          ),
          ...chatUsers.map((userId) => {
            // Continue one of this user's acknowledged chats, or start a new one.
            const known = () =>
              [...chats.entries()].filter(
                ([id, chat]) => chat.kind === 'chat' && chat.userId === userId && acks.some((a) => a.chatId === id),
              );
            return client(baseUrl, iteration, isKilled, () => {
              const mine = known();
              if (mine.length > 0 && pick() < 0.5) {
                return { route: 'chat-continue' as const, target: mine[Math.floor(pick() * mine.length)][0], userId };
              }
              return { route: 'chat-new' as const, target: null, userId };
            });
          }),
        ];

        await elapse(killDelays[iteration], 'the kill lands at a random moment of the load: that moment is what is tested');
        killed = true;
        server.child.kill('SIGKILL');
        expect(await server.exited).toBe('SIGKILL');
        await Promise.all(clients);
        agent.destroy();
        agent = undefined;
        explained(
          () => failedBeforeKill.join('\n'),
          () => expect(stats.errorsBeforeKill).toBe(0),
        );
      }

      // The server is dead (SIGKILLed) and the file is as the last kill left it, hot WAL included.
      // It is opened only now: opening it between iterations would checkpoint the WAL and spare
      // the next server the recovery this spec is about.
      const problems: string[] = [];
      const db = new Database(databasePath, { fileMustExist: true });
      let storedTurns = 0;
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);

        type Row = { id: number; chat_id: string; role: string; content: string; cost_nano_usd: number | null; cost_status: string | null };
        const rows = db
          .prepare('SELECT id, chat_id, role, content, cost_nano_usd, cost_status FROM chat_history ORDER BY id')
          .all() as Row[];
        const byId = new Map(rows.map((row) => [row.id, row]));
        const userRows = new Map<string, Row[]>();
        for (const row of rows.filter((r) => r.role === 'user')) userRows.set(row.content, [...(userRows.get(row.content) ?? []), row]);

        for (const [content, found] of userRows) {
          if (found.length > 1)
            problems.push(
              `user message stored ${found.length} times: ${JSON.stringify(content)} (ids ${found.map((r) => r.id).join(',')})`,
            );
          const origin = sent.get(content);
          if (!origin) problems.push(`stored user message never sent: ${JSON.stringify(content)}`);
          else if (origin.outcome === 'refused') problems.push(`refused turn (${origin.status}) stored: ${JSON.stringify(content)}`);
        }

        for (const ack of acks) {
          const found = userRows.get(ack.message) ?? [];
          if (found.length !== 1) {
            problems.push(`acknowledged turn stored ${found.length} times: ${JSON.stringify(ack.message)} (iteration ${ack.iteration})`);
            continue;
          }
          const user = found[0];
          const model = byId.get(user.id + 1);
          const what = JSON.stringify(ack.message);
          if (user.chat_id !== ack.chatId) problems.push(`${what}: stored in chat ${user.chat_id}, acknowledged for ${ack.chatId}`);
          if (!model || model.role !== 'model' || model.chat_id !== user.chat_id) {
            problems.push(`${what}: row ${user.id + 1} is not its model row (${JSON.stringify(model)})`);
            continue;
          }
          if (model.content !== ack.reply) problems.push(`${what}: stored reply differs from the acknowledged one`);
          if (model.cost_nano_usd !== Math.round(ack.costUsd * 1e9)) {
            problems.push(`${what}: cost_nano_usd ${model.cost_nano_usd}, acknowledged cost_usd ${ack.costUsd}`);
          }
          if (model.cost_status !== 'priced') problems.push(`${what}: cost_status ${model.cost_status}`);
          if (ack.userRowId !== undefined && (user.id !== ack.userRowId || model.id !== ack.modelRowId)) {
            problems.push(`${what}: rows ${user.id}/${model.id}, acknowledged ${ack.userRowId}/${ack.modelRowId}`);
          }
        }

        // Per chat: user, model, user, model… by id, each model row right after its user row.
        const perChat = new Map<string, Row[]>();
        for (const row of rows) perChat.set(row.chat_id, [...(perChat.get(row.chat_id) ?? []), row]);
        for (const [chatId, chatRows] of perChat) {
          const users = chatRows.filter((r) => r.role === 'user').length;
          const models = chatRows.filter((r) => r.role === 'model').length;
          if (users !== models) problems.push(`chat ${chatId}: ${users} user rows, ${models} model rows`);
          chatRows.forEach((row, i) => {
            const expected = i % 2 === 0 ? 'user' : 'model';
            if (row.role !== expected) problems.push(`chat ${chatId}: row ${row.id} is ${row.role}, expected ${expected}`);
            if (row.role === 'model' && chatRows[i - 1]?.id !== row.id - 1)
              problems.push(`chat ${chatId}: model row ${row.id} not right after its user row`);
            if (row.role === 'model' && row.cost_status !== 'priced')
              problems.push(`chat ${chatId}: model row ${row.id} is ${row.cost_status}`);
          });
          const seen = chats.get(chatId)?.seen ?? [];
          seen.forEach((old, i) => {
            if (chatRows[i]?.content !== old.content) problems.push(`chat ${chatId}: message ${i} seen after a restart is gone or changed`);
          });
        }
        for (const [chatId, chat] of chats) {
          if (chat.seen.length > 0 && !perChat.has(chatId)) problems.push(`chat ${chatId}: all its messages are gone`);
        }
        storedTurns = rows.filter((r) => r.role === 'model').length;
      } finally {
        db.close();
      }
      fail(ITERATIONS, problems);

      const summary = () => {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const bySession = acks.filter((a) => a.route === 'session').length;
        return (
          `crash-safety summary: ${ITERATIONS} SIGKILL iterations, ${acks.length} acknowledged turns verified ` +
          `(${bySession} via /sessions/:id/messages, ${acks.length - bySession} via /chat), ` +
          `${storedTurns} turns stored (${storedTurns - acks.length} whose answer was lost in a kill), ` +
          `${stats.cut} requests cut, ${stats.refused} refused, ${stats.orphanChats} chats found whose first answer was lost, ` +
          `${stats.httpChecks} histories checked after restarts, seed ${SEED}, kill delays ${killDelays.join('/')} ms, ` +
          `acknowledged per iteration ${killDelays.map((_, i) => acks.filter((a) => a.iteration === i).length).join('/')}, ${seconds} s`
        );
      };
      // Enough load to mean something: the warm-up turns alone are ITERATIONS.
      explained(summary, () => expect(acks.length).toBeGreaterThan(ITERATIONS * 3));
    },
    TIMEOUT_MS,
  );
});
