import { Table, TableColumn, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

// Written out rather than read from TOKEN_CLASSES: a migration is a snapshot of its day.
const TOKEN_COLUMNS = [
  'prompt_tokens',
  'cached_tokens',
  'output_tokens',
  'thoughts_tokens',
  'tool_prompt_tokens',
  'audio_prompt_tokens',
  'audio_cached_tokens',
  'total_tokens',
];

const total = (name: string) => new TableColumn({ name, type: 'bigint', isNullable: false, default: 0 });

/**
 * Money is never erased: every turn's spend goes to `spend_ledger`, which deleting a session or
 * a user does not touch (no foreign keys), with a running total per user and UTC day
 * (`spend_daily`, what budgets read) and per session (columns of `chat_sessions`, what a
 * session's totals read). The turns stored so far are copied in.
 */
export class SpendLedger1764100000000 implements MigrationInterface {
  name = 'SpendLedger1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'spend_ledger',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          // Names the turn, so a line written again after a failure is written once (null: copied below).
          { name: 'turn_id', type: 'varchar', length: '36', isNullable: true, isUnique: true },
          { name: 'user_id', type: 'varchar', length: '128' },
          { name: 'session_id', type: 'varchar', length: '36' },
          { name: 'model', type: 'varchar', length: '100' },
          ...TOKEN_COLUMNS.map((name) => total(name)),
          { name: 'cost_nano_usd', type: 'bigint', isNullable: true },
          { name: 'cost_status', type: 'varchar', length: '10' },
          { name: 'created_at', type: 'varchar', length: '30' },
        ],
        indices: [new TableIndex({ name: 'idx_spend_ledger_user', columnNames: ['user_id', 'created_at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'spend_daily',
        columns: [
          { name: 'user_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'day', type: 'varchar', length: '10', isPrimary: true },
          total('turns'),
          total('cost_nano_usd'),
        ],
      }),
    );
    await queryRunner.addColumns('chat_sessions', [total('message_count'), total('total_tokens'), total('total_cost_nano_usd')]);

    const tokens = TOKEN_COLUMNS.join(', ');
    await queryRunner.query(
      `INSERT INTO spend_ledger (user_id, session_id, model, ${tokens}, cost_nano_usd, cost_status, created_at)
       SELECT s.user_id, m.chat_id, COALESCE(m.model, s.model), ${TOKEN_COLUMNS.map((name) => `COALESCE(m.${name}, 0)`).join(', ')},
              m.cost_nano_usd, COALESCE(m.cost_status, 'unpriced'), m.timestamp
         FROM chat_history m JOIN chat_sessions s ON s.chat_id = m.chat_id
        WHERE m.role = 'model'
        ORDER BY m.id`,
    );
    await queryRunner.query(
      `INSERT INTO spend_daily (user_id, day, turns, cost_nano_usd)
       SELECT user_id, SUBSTR(created_at, 1, 10), COUNT(*), COALESCE(SUM(cost_nano_usd), 0)
         FROM spend_ledger GROUP BY user_id, SUBSTR(created_at, 1, 10)`,
    );
    await queryRunner.query(
      `UPDATE chat_sessions SET
         message_count = (SELECT COUNT(*) FROM chat_history h WHERE h.chat_id = chat_sessions.chat_id),
         total_tokens = (SELECT COALESCE(SUM(h.total_tokens), 0) FROM chat_history h WHERE h.chat_id = chat_sessions.chat_id),
         total_cost_nano_usd = (SELECT COALESCE(SUM(h.cost_nano_usd), 0) FROM chat_history h WHERE h.chat_id = chat_sessions.chat_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['total_cost_nano_usd', 'total_tokens', 'message_count']) await queryRunner.dropColumn('chat_sessions', column);
    await queryRunner.dropTable('spend_daily');
    await queryRunner.dropTable('spend_ledger');
  }
}
