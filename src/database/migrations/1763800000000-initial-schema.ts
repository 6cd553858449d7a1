import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const timestamp = (name: string) => ({ name, type: 'varchar', length: '30', isNullable: false });
const count = (name: string) => ({ name, type: 'bigint', isNullable: true });

/** The seed schema (users, chat_sessions, chat_history) with the contract's added columns. */
export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'user_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'username', type: 'varchar', length: '200', isNullable: true },
          { name: 'email', type: 'varchar', length: '320', isNullable: true },
          timestamp('created_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'chat_sessions',
        columns: [
          { name: 'chat_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '128' },
          { name: 'title', type: 'varchar', length: '200', isNullable: true },
          { name: 'model', type: 'varchar', length: '100' },
          { name: 'system_instruction', type: 'text', isNullable: true },
          timestamp('created_at'),
          timestamp('updated_at'),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_chat_sessions_user',
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['user_id'],
            onDelete: 'CASCADE',
          }),
        ],
        indices: [new TableIndex({ name: 'idx_chat_sessions_user', columnNames: ['user_id', 'created_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'chat_history',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'chat_id', type: 'varchar', length: '36' },
          timestamp('timestamp'),
          { name: 'role', type: 'varchar', length: '10' },
          { name: 'content', type: 'text' },
          { name: 'model', type: 'varchar', length: '100', isNullable: true },
          count('prompt_tokens'),
          count('cached_tokens'),
          count('output_tokens'),
          count('thoughts_tokens'),
          count('tool_prompt_tokens'),
          count('total_tokens'),
          count('cost_nano_usd'),
          { name: 'cost_status', type: 'varchar', length: '10', isNullable: true },
          { name: 'finish_reason', type: 'varchar', length: '40', isNullable: true },
          count('latency_ms'),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_chat_history_session',
            columnNames: ['chat_id'],
            referencedTableName: 'chat_sessions',
            referencedColumnNames: ['chat_id'],
            onDelete: 'CASCADE',
          }),
        ],
        indices: [new TableIndex({ name: 'idx_chat_history_chat', columnNames: ['chat_id', 'id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('chat_history');
    await queryRunner.dropTable('chat_sessions');
    await queryRunner.dropTable('users');
  }
}
