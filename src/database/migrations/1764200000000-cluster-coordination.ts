import { Table, TableColumn, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What instances sharing one PostgreSQL database coordinate through (src/coordination): a lease per
 * session with a turn running, budget reservations of turns in flight, and the turn starts of
 * the last minute per caller (on SQLite, one process, these three stay empty). A lease, a
 * reservation and a running Idempotency-Key claim (on both databases) expire (epoch ms, the
 * database's clock) unless the instance holding them renews them: a claim is abandoned when
 * its instance stopped renewing it, not after a guessed time.
 */
export class ClusterCoordination1764200000000 implements MigrationInterface {
  name = 'ClusterCoordination1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'session_leases',
        columns: [
          { name: 'session_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'holder', type: 'varchar', length: '36', isUnique: true },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'budget_reservations',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '128' },
          { name: 'nano_usd', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'idx_budget_reservations_user', columnNames: ['user_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'rate_limit_hits',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'scope', type: 'varchar', length: '160' },
          { name: 'at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'idx_rate_limit_hits_scope', columnNames: ['scope', 'at'] })],
      }),
    );
    await queryRunner.addColumns('idempotency_records', [
      new TableColumn({ name: 'holder', type: 'varchar', length: '36', isNullable: true }),
      new TableColumn({ name: 'expires_at', type: 'bigint', isNullable: true }),
    ]);
    await queryRunner.createIndex(
      'idempotency_records',
      new TableIndex({ name: 'idx_idempotency_records_holder', columnNames: ['holder'] }),
    );
    // Whose content a remembered result holds: it goes when that session or user is deleted.
    await queryRunner.addColumns('idempotency_records', [
      new TableColumn({ name: 'user_id', type: 'varchar', length: '128', isNullable: true }),
      new TableColumn({ name: 'session_id', type: 'varchar', length: '36', isNullable: true }),
    ]);
    await queryRunner.createIndex(
      'idempotency_records',
      new TableIndex({ name: 'idx_idempotency_records_user', columnNames: ['user_id'] }),
    );
    await queryRunner.createIndex(
      'idempotency_records',
      new TableIndex({ name: 'idx_idempotency_records_session', columnNames: ['session_id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('idempotency_records', 'idx_idempotency_records_session');
    await queryRunner.dropIndex('idempotency_records', 'idx_idempotency_records_user');
    await queryRunner.dropColumn('idempotency_records', 'session_id');
    await queryRunner.dropColumn('idempotency_records', 'user_id');
    await queryRunner.dropIndex('idempotency_records', 'idx_idempotency_records_holder');
    await queryRunner.dropColumn('idempotency_records', 'expires_at');
    await queryRunner.dropColumn('idempotency_records', 'holder');
    await queryRunner.dropTable('rate_limit_hits');
    await queryRunner.dropTable('budget_reservations');
    await queryRunner.dropTable('session_leases');
  }
}
