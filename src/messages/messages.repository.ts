import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql.js';
import { countsToUsage, TOKEN_CLASSES } from '../core/token-usage.js';
import type { TokenName } from '../core/token-usage.js';
import type { CostStatus } from '../core/cost-status.js';
import { attachmentsFromColumn, attachmentsToColumn, contextTokensOf } from './message.js';
import type { ContextMessage, Message, MessageContext, MessageRole, NewTurn, TurnHistory } from './message.js';

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
  priced_as: string | null;
  context_messages: number | string | null;
  context_first_message_id: number | string | null;
  /** A boolean on PostgreSQL, 0 or 1 on SQLite (and bound as 0 or 1 on both). */
  context_truncated: boolean | number | null;
  latency_ms: number | string | null;
  /** User rows: JSON (attachmentsToColumn); null when none. */
  attachments: string | null;
} & Record<TokenName, number | string | null>;

/** What a turn writes, user row and model row alike; the columns from `model` on are the model row's. */
const VALUE_COLUMNS = [
  'chat_id',
  'timestamp',
  'role',
  'content',
  'attachments',
  'model',
  'priced_as',
  'context_messages',
  'context_first_message_id',
  'context_truncated',
  'cost_nano_usd',
  'cost_status',
  'finish_reason',
  'latency_ms',
  ...TOKEN_CLASSES.map(({ name }) => name),
];
const MODEL_ONLY = VALUE_COLUMNS.slice(VALUE_COLUMNS.indexOf('model'));
// "timestamp" is a type name in PostgreSQL: quoted, as a column.
const quoted = (column: string) => (column === 'timestamp' ? '"timestamp"' : column);
const MESSAGE_COLUMNS = ['id', ...VALUE_COLUMNS].map(quoted).join(', ');

type ContextRow = Omit<ContextMessage, 'attachments'> &
  Pick<
    MessageRow,
    'attachments' | 'prompt_tokens' | 'output_tokens' | 'context_messages' | 'context_first_message_id' | 'context_truncated'
  >;

/**
 * Only what a turn's context needs, in history order, and what the newest turn weighed (on model
 * rows); as SINCE below, no row when there is no such session.
 */
const CONTEXT = new Sql<{ [column in keyof ContextRow]: ContextRow[column] | null }>(
  `SELECT h.id, h.role, h.content, h.attachments, h.prompt_tokens, h.output_tokens, h.context_messages, h.context_first_message_id, h.context_truncated
     FROM chat_sessions s LEFT JOIN chat_history h ON h.chat_id = s.chat_id
    WHERE s.chat_id = :sessionId ORDER BY h.id`,
);

/**
 * A session's messages after a given id, in history order, and how many it holds in all, read
 * in one statement (one snapshot). One row with no message when nothing is new; no row when
 * there is no such session.
 */
const SINCE = new Sql<{ message_count: number | string } & { [column in keyof MessageRow]: MessageRow[column] | null }>(
  `SELECT s.message_count, ${['id', ...VALUE_COLUMNS].map((column) => `h.${quoted(column)}`).join(', ')}
     FROM chat_sessions s LEFT JOIN chat_history h ON h.chat_id = s.chat_id AND h.id > :afterId
    WHERE s.chat_id = :sessionId
    ORDER BY h.id`,
);

const PAGE = new Sql<MessageRow>(
  `SELECT ${MESSAGE_COLUMNS} FROM chat_history WHERE chat_id = :sessionId AND id > :afterId ORDER BY id LIMIT :limit`,
);

/** Both rows of a turn in one statement: the user's message first (history order is by id). */
const APPEND_TURN = new Sql<{ id: number | string; role: MessageRole }>(
  `INSERT INTO chat_history (${VALUE_COLUMNS.map(quoted).join(', ')})
   VALUES (:chat_id, :received_at, 'user', :user_message, :user_attachments, ${MODEL_ONLY.map(() => 'NULL').join(', ')}),
          (${VALUE_COLUMNS.map((column) => `:${column}`).join(', ')})
   RETURNING id, role`,
);

/** Messages are read and written with fixed SQL statements: history grows, the work per row stays small. */
export class MessagesRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The messages after `afterId` (0: all of them) and the session's count of messages; null: no such session. */
  async since(sessionId: string, afterId: number): Promise<{ messageCount: number; messages: Message[] } | null> {
    const rows = await SINCE.rows(this.manager, { sessionId, afterId });
    if (rows.length === 0) return null;
    const messages = rows[0].id === null ? [] : rows.map((row) => toMessage(row as MessageRow));
    return { messageCount: Number(rows[0].message_count), messages };
  }

  /** The stored conversation as a turn's context needs it, in `id` order; null: no such session. */
  async contextFor(sessionId: string): Promise<TurnHistory | null> {
    const rows = await CONTEXT.rows(this.manager, { sessionId });
    if (rows.length === 0) return null;
    if (rows[0].role === null) return { messages: [], lastTurn: null };
    const last = rows.at(-1) as ContextRow;
    const count = (value: number | string | null) => (value === null ? null : Number(value));
    const messages: ContextMessage[] = (rows as ContextRow[]).map((row) => ({
      id: row.id,
      role: row.role,
      content: row.content,
      attachments: attachmentsFromColumn(row.attachments),
    }));
    return {
      messages,
      lastTurn: {
        tokens: contextTokensOf(count(last.prompt_tokens), count(last.output_tokens)),
        context: last.context_messages === null ? null : contextOf(last),
      },
    };
  }

  /** Messages after `afterId`, in order; keyset paging on `id`. */
  async page(sessionId: string, limit: number, afterId: number | null): Promise<Message[]> {
    return (await PAGE.rows(this.manager, { sessionId, limit, afterId: afterId ?? 0 })).map(toMessage);
  }

  /** Which of these files are still stored (the others were deleted since a message carried them). */
  async storedFiles(fileIds: readonly string[]): Promise<Set<string>> {
    if (fileIds.length === 0) return new Set();
    const rows: { file_id: string }[] = await this.manager
      .createQueryBuilder()
      .select('f.file_id', 'file_id')
      .from('files', 'f')
      .where('f.file_id IN (:...fileIds)', { fileIds: [...new Set(fileIds)] })
      .getRawMany();
    return new Set(rows.map((row) => row.file_id));
  }

  /** Both rows of a turn. */
  async appendTurn(turn: NewTurn): Promise<[Message, Message]> {
    const modelRow: Omit<MessageRow, 'id'> = {
      chat_id: turn.sessionId,
      timestamp: turn.answeredAt,
      role: 'model',
      content: turn.reply,
      attachments: null,
      model: turn.model,
      priced_as: turn.pricedAs,
      context_messages: turn.context.messages,
      context_first_message_id: turn.context.firstMessageId,
      context_truncated: turn.context.truncated ? 1 : 0,
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
      attachments: attachmentsToColumn(turn.attachments),
    };
    const ids = await APPEND_TURN.rows(this.manager, {
      ...modelRow,
      received_at: turn.receivedAt,
      user_message: turn.userMessage,
      user_attachments: userRow.attachments,
    });
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
    pricedAs: row.priced_as,
    context: isModel && row.context_messages !== null ? contextOf(row) : null,
    latencyMs: row.latency_ms === null ? null : Number(row.latency_ms),
    attachments: attachmentsFromColumn(row.attachments),
  };
}

function contextOf(row: Pick<MessageRow, 'context_messages' | 'context_first_message_id' | 'context_truncated'>): MessageContext {
  return {
    messages: Number(row.context_messages),
    firstMessageId: row.context_first_message_id === null ? null : Number(row.context_first_message_id),
    truncated: Boolean(row.context_truncated),
  };
}
