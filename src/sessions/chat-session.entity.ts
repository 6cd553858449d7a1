import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { integerColumn, timestampColumn, totalColumn } from '../database/columns.js';
import type { Session, SessionTotals, Truncation } from './session.js';

/** A session's running totals: columns of `chat_sessions`, kept by each turn (never a SUM). */
export class SessionTotalsColumns implements SessionTotals {
  @Column(totalColumn('message_count'))
  messageCount: number;

  @Column(totalColumn('total_tokens'))
  totalTokens: number;

  @Column(totalColumn('total_cost_nano_usd'))
  totalCostNanoUsd: number;
}

/** A session; the seed schema calls it a chat, hence the table and key names. */
@Entity('chat_sessions')
@Index('idx_chat_sessions_user', ['userId', 'createdAt'])
export class ChatSessionEntity implements Session {
  @PrimaryColumn({ name: 'chat_id', type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  title: string | null;

  @Column({ type: 'varchar', length: 100 })
  model: string;

  @Column({ name: 'system_instruction', type: 'text', nullable: true })
  systemInstruction: string | null;

  @Column(timestampColumn('created_at'))
  createdAt: string;

  @Column(timestampColumn('updated_at'))
  updatedAt: string;

  /** The session's own context limit; null: the model's input token limit. */
  @Column(integerColumn('max_context_tokens'))
  maxContextTokens: number | null;

  @Column({ type: 'varchar', length: 10, default: 'auto' })
  truncation: Truncation;

  /** The last turn's prompt plus its reply, as Gemini counted them: what the next turn starts from. */
  @Column(integerColumn('context_tokens'))
  contextTokens: number | null;

  @Column(() => SessionTotalsColumns, { prefix: false })
  totals: SessionTotalsColumns;
}
