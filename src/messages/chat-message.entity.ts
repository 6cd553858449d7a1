import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { integerColumn, timestampColumn, tokenColumns } from '../database/columns.js';
import type { CostStatus } from '../core/cost-status.js';
import type { TokenKey } from '../core/token-usage.js';
import type { MessageRole } from './message.js';

/** One row per message; history order is `id`, never `timestamp`. Usage fields are on model rows. */
@Entity('chat_history')
@Index('idx_chat_history_chat', ['sessionId', 'id'])
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- its token columns are declared below, from TOKEN_CLASSES
export class ChatMessageEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'chat_id', type: 'varchar', length: 36 })
  sessionId: string;

  @Column(timestampColumn('timestamp'))
  createdAt: string;

  @Column({ type: 'varchar', length: 10 })
  role: MessageRole;

  @Column({ type: 'text' })
  content: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  model: string | null;

  /** Integer nano-dollars (1e-9 USD): sums stay exact. Null when unpriced. */
  @Column(integerColumn('cost_nano_usd'))
  costNanoUsd: number | null;

  @Column({ name: 'cost_status', type: 'varchar', length: 10, nullable: true })
  costStatus: CostStatus | null;

  /** The table entry whose rates priced the turn (null when unpriced). */
  @Column({ name: 'priced_as', type: 'varchar', length: 100, nullable: true })
  pricedAs: string | null;

  /** What the model saw: how many earlier messages were sent with the turn's message… */
  @Column({ name: 'context_messages', type: 'integer', nullable: true })
  contextMessages: number | null;

  /** …from which one (null: none)… */
  @Column({ name: 'context_first_message_id', type: 'integer', nullable: true })
  contextFirstMessageId: number | null;

  /** …and whether older ones were left out to fit the context limit. */
  @Column({ name: 'context_truncated', type: 'boolean', nullable: true })
  contextTruncated: boolean | null;

  @Column({ name: 'finish_reason', type: 'varchar', length: 40, nullable: true })
  finishReason: string | null;

  @Column(integerColumn('latency_ms'))
  latencyMs: number | null;

  /** User rows: the files the message carried, as JSON (attachmentsToColumn); null when none. */
  @Column({ type: 'text', nullable: true })
  attachments: string | null;
}

// The token count columns come from the one list of token classes.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the type of those columns
export interface ChatMessageEntity extends Record<TokenKey, number | null> {}
tokenColumns(ChatMessageEntity, { nullable: true });
