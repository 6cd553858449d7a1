import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../database/columns.js';

@Entity('chat_sessions')
@Index('idx_chat_sessions_user', ['userId', 'createdAt'])
export class ChatSessionEntity {
  @PrimaryColumn({ name: 'chat_id', type: 'varchar', length: 36 })
  chatId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  title: string | null;

  @Column({ type: 'varchar', length: 100 })
  model: string;

  @Column({ name: 'system_instruction', type: 'text', nullable: true })
  systemInstruction: string | null;

  @Column(timestampColumn('created_at'))
  createdAt: Date;

  @Column(timestampColumn('updated_at'))
  updatedAt: Date;
}
