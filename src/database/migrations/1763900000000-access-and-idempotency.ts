import { Table, TableColumn, TableForeignKey } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-user API keys (hashes only), per-user daily budgets, and Idempotency-Key records. */
export class AccessAndIdempotency1763900000000 implements MigrationInterface {
  name = 'AccessAndIdempotency1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('users', new TableColumn({ name: 'daily_budget_nano_usd', type: 'bigint', isNullable: true }));
    await queryRunner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'key_id', type: 'varchar', length: '32', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '128' },
          { name: 'key_hash', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'varchar', length: '30' },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_api_keys_user',
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['user_id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'idempotency_records',
        columns: [
          { name: 'scope', type: 'varchar', length: '160', isPrimary: true },
          { name: 'idempotency_key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'state', type: 'varchar', length: '12' },
          { name: 'response_status', type: 'integer', isNullable: true },
          { name: 'response_body', type: 'text', isNullable: true },
          { name: 'created_at', type: 'varchar', length: '30' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('idempotency_records');
    await queryRunner.dropTable('api_keys');
    await queryRunner.dropColumn('users', 'daily_budget_nano_usd');
  }
}
