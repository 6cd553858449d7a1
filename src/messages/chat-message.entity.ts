import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { integerColumn, timestampColumn } from '../database/columns.js';
import type { CostStatus } from '../pricing/pricing.service.js';

export type MessageRole = 'user' | 'model';

/** One row per message; history order is `id`, never `timestamp`. Usage fields are on model rows. */
@Entity('chat_history')
@Index('idx_chat_history_chat', ['chatId', 'id'])
export class ChatMessageEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'chat_id', type: 'varchar', length: 36 })
  chatId: string;

  @Column(timestampColumn('timestamp'))
  timestamp: Date;

  @Column({ type: 'varchar', length: 10 })
  role: MessageRole;

  @Column({ type: 'text' })
  content: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  model: string | null;

  @Column(integerColumn('prompt_tokens'))
  promptTokens: number | null;

  @Column(integerColumn('cached_tokens'))
  cachedTokens: number | null;

  @Column(integerColumn('output_tokens'))
  outputTokens: number | null;

  @Column(integerColumn('thoughts_tokens'))
  thoughtsTokens: number | null;

  @Column(integerColumn('tool_prompt_tokens'))
  toolPromptTokens: number | null;

  @Column(integerColumn('total_tokens'))
  totalTokens: number | null;

  /** Integer nano-dollars (1e-9 USD): sums stay exact. Null when unpriced. */
  @Column(integerColumn('cost_nano_usd'))
  costNanoUsd: number | null;

  @Column({ name: 'cost_status', type: 'varchar', length: 10, nullable: true })
  costStatus: CostStatus | null;

  @Column({ name: 'finish_reason', type: 'varchar', length: 40, nullable: true })
  finishReason: string | null;

  @Column(integerColumn('latency_ms'))
  latencyMs: number | null;
}
