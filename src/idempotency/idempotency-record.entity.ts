import { Column, Entity, PrimaryColumn } from 'typeorm';
import { integerColumn, timestampColumn } from '../database/columns.js';

export type IdempotencyState = 'running' | 'done';

/** What a request sent with an Idempotency-Key answered, kept 24 h, per caller. */
@Entity('idempotency_records')
export class IdempotencyRecordEntity {
  @PrimaryColumn({ type: 'varchar', length: 160 })
  scope: string;

  @PrimaryColumn({ name: 'idempotency_key', type: 'varchar', length: 255 })
  idempotencyKey: string;

  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  @Column({ type: 'varchar', length: 12 })
  state: IdempotencyState;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus: number | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  @Column(timestampColumn('created_at'))
  createdAt: string;

  /** Names the running claim for its instance's heartbeat (while `running`). */
  @Column({ type: 'varchar', length: 36, nullable: true })
  holder: string | null;

  /** Whose content the remembered result holds (it goes with them). */
  @Column({ name: 'user_id', type: 'varchar', length: 128, nullable: true })
  userId: string | null;

  @Column({ name: 'session_id', type: 'varchar', length: 36, nullable: true })
  sessionId: string | null;

  /** While `running`: when the claim is abandoned unless its instance renews it (epoch ms, database clock). */
  @Column(integerColumn('expires_at'))
  expiresAt: number | null;
}
