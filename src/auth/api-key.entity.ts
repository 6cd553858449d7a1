import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../database/columns.js';

/** A user's API key. Only its SHA-256 is kept; the key itself is shown once, at creation. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 32 })
  keyId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId: string;

  @Column({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash: string;

  @Column(timestampColumn('created_at'))
  createdAt: string;
}
