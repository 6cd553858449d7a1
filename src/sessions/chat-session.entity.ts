import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../database/columns.js';
import type { Session } from './session.js';

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
}
