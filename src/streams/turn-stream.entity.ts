import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { integerColumn, timestampColumn } from '../database/columns.js';
import type { TurnState } from './turn-event.js';

/** A streamed turn: whose it is, whether it runs, whether a cancel was asked for (migration TurnStreams1764750000000). */
@Entity('turn_streams')
@Index('idx_turn_streams_session', ['sessionId', 'state'])
@Index('idx_turn_streams_ended', ['endedAt'])
export class TurnStreamEntity {
  @PrimaryColumn({ name: 'turn_id', type: 'varchar', length: 36 })
  turnId: string;

  @Column({ name: 'session_id', type: 'varchar', length: 36 })
  sessionId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ type: 'varchar', length: 10 })
  state: TurnState;

  @Column({ ...timestampColumn('cancel_requested_at'), nullable: true })
  cancelRequestedAt: string | null;

  @Column(timestampColumn('created_at'))
  createdAt: string;

  @Column({ ...timestampColumn('ended_at'), nullable: true })
  endedAt: string | null;
}

/** One event of a streamed turn, as its client got it: `id: <turn_id>:<seq>`, `event`, `data` (JSON). */
@Entity('turn_events')
export class TurnEventEntity {
  @PrimaryColumn({ name: 'turn_id', type: 'varchar', length: 36 })
  turnId: string;

  @PrimaryColumn({ ...integerColumn('seq'), nullable: false })
  seq: number;

  @Column({ type: 'varchar', length: 10 })
  event: string;

  @Column({ type: 'text' })
  data: string;

  @Column(timestampColumn('created_at'))
  createdAt: string;
}
