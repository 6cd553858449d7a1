import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql.js';
import { countsToUsage, TOKEN_CLASSES } from '../pricing/token-usage.js';
import type { TokenName } from '../pricing/token-usage.js';
import type { CostStatus } from '../pricing/pricing.service.js';
import type { ContextMessage, Message, MessageRole, NewTurn } from './message.js';

type MessageRow = {
  id: number | string;
  chat_id: string;
  role: MessageRole;
  content: string;
  timestamp: string;
  model: string | null;
  finish_reason: string | null;
  cost_nano_usd: number | string | null;
  cost_status: CostStatus | null;
  latency_ms: number | string | null;
} & Record<TokenName, number | string | null>;

/** What a turn writes, user row and model row alike; the columns from `model` on are the model row's. */
const VALUE_COLUMNS = ['chat_id', 'timestamp', 'role', 'content', 'model', 'cost_nano_usd', 'cost_status', 'finish_reason', 'latency_ms', ...TOKEN_CLASSES.map(({ name }) => name)];
const MODEL_ONLY = VALUE_COLUMNS.slice(VALUE_COLUMNS.indexOf('model'));
// "timestamp" is a type name in PostgreSQL: quoted, as a column.
const quoted = (column: string) => (column === 'timestamp' ? '"timestamp"' : column);
const MESSAGE_COLUMNS = ['id', ...VALUE_COLUMNS].map(quoted).join(', ');

/** Only what the next turn's context needs, in history order (`id`). */
const CONTEXT = new Sql<ContextMessage>('SELECT role, content FROM chat_history WHERE chat_id = :sessionId ORDER BY id');

const ALL = new Sql<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = :sessionId ORDER BY id`);

const PAGE = new Sql<MessageRow>(
  `SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = :sessionId AND id > :afterId ORDER BY id LIMIT :limit`,
);

/** Both rows of a turn in one statement: the user's message first (history order is by id). */
const APPEND_TURN = new Sql<{ id: number | string; role: MessageRole }>(
  `INSERT INTO chat_history (${VALUE_COLUMNS.map(quoted).join(', ')})
   VALUES (:chat_id, :received_at, 'user', :user_message, ${MODEL_ONLY.map(() => 'NULL').join(', ')}),
          (${VALUE_COLUMNS.map((column) => `:${column}`).join(', ')})
   RETURNING id, role`,
);

/** Messages are read and written with fixed SQL statements: history grows, the work per row stays small. */
export class MessagesRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The stored conversation in `id` order, as the next turn's context needs it. */
  contextFor(sessionId: string): Promise<ContextMessage[]> {
    return CONTEXT.rows(this.manager, { sessionId });
  }

  async listForSession(sessionId: string): Promise<Message[]> {
    return (await ALL.rows(this.manager, { sessionId })).map(toMessage);
  }

  /** Messages after `afterId`, in order; keyset paging on `id`. */
  async page(sessionId: string, limit: number, afterId: number | null): Promise<Message[]> {
    return (await PAGE.rows(this.manager, { sessionId, limit, afterId: afterId ?? 0 })).map(toMessage);
  }

  /** Both rows of a turn. */
  async appendTurn(turn: NewTurn): Promise<[Message, Message]> {
    const modelRow: Omit<MessageRow, 'id'> = {
      chat_id: turn.sessionId,
      timestamp: turn.answeredAt,
      role: 'model',
      content: turn.reply,
      model: turn.model,
      cost_nano_usd: turn.costNanoUsd,
      cost_status: turn.costStatus,
      finish_reason: turn.finishReason,
      latency_ms: turn.latencyMs,
      ...(Object.fromEntries(TOKEN_CLASSES.map(({ key, name }) => [name, turn.usage?.[key] ?? null])) as Record<TokenName, number | null>),
    };
    const userRow: Omit<MessageRow, 'id'> = {
      ...modelRow,
      ...(Object.fromEntries(MODEL_ONLY.map((column) => [column, null])) as Partial<MessageRow>),
      timestamp: turn.receivedAt,
      role: 'user',
      content: turn.userMessage,
    };
    const ids = await APPEND_TURN.rows(this.manager, { ...modelRow, received_at: turn.receivedAt, user_message: turn.userMessage });
    const idOf = (role: MessageRole) => ids.find((row) => row.role === role)!.id;
    return [toMessage({ ...userRow, id: idOf('user') }), toMessage({ ...modelRow, id: idOf('model') })];
  }
}

function toMessage(row: MessageRow): Message {
  const isModel = row.role === 'model';
  return {
    id: Number(row.id),
    sessionId: row.chat_id,
    role: row.role,
    content: row.content,
    createdAt: row.timestamp,
    model: row.model,
    finishReason: row.finish_reason,
    usage: isModel ? countsToUsage(row) : null,
    costNanoUsd: row.cost_nano_usd === null ? null : Number(row.cost_nano_usd),
    costStatus: isModel ? (row.cost_status ?? 'unpriced') : null,
    latencyMs: row.latency_ms === null ? null : Number(row.latency_ms),
  };
}
