import { TableColumn } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Long conversations and what a price rests on.
 * - `chat_sessions`: the session's context limit (`max_context_tokens`, null: the model's) and
 *   `truncation` (`auto` | `disabled`); what the context weighed at the last turn
 *   (`context_tokens`: its prompt plus its reply, as Gemini counted them; the session shows it).
 * - `chat_history` model rows: `priced_as` (whose rates priced the turn) and `context_*`, what
 *   the model saw: how many earlier messages, from which id, and whether older ones were left out.
 * - `spend_ledger`: `priced_as` too.
 * Turns stored before this were all sent with their whole history and priced as the model named
 * on their row when priced: that is what is filled in.
 */
export class LongConversations1764400000000 implements MigrationInterface {
  name = 'LongConversations1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('chat_sessions', [
      new TableColumn({ name: 'max_context_tokens', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'truncation', type: 'varchar', length: '10', isNullable: false, default: "'auto'" }),
      new TableColumn({ name: 'context_tokens', type: 'bigint', isNullable: true }),
    ]);
    await queryRunner.addColumns('chat_history', [
      new TableColumn({ name: 'priced_as', type: 'varchar', length: '100', isNullable: true }),
      new TableColumn({ name: 'context_messages', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'context_first_message_id', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'context_truncated', type: 'boolean', isNullable: true }),
    ]);
    await queryRunner.addColumn('spend_ledger', new TableColumn({ name: 'priced_as', type: 'varchar', length: '100', isNullable: true }));

    await queryRunner.query("UPDATE chat_history SET priced_as = model WHERE role = 'model' AND cost_status = 'priced'");
    await queryRunner.query("UPDATE spend_ledger SET priced_as = model WHERE cost_status = 'priced'");
    // Every earlier message but the turn's own user message was sent with it.
    await queryRunner.query(
      `UPDATE chat_history SET context_truncated = false,
         context_messages = (SELECT COUNT(*) FROM chat_history e WHERE e.chat_id = chat_history.chat_id AND e.id < chat_history.id) - 1
        WHERE role = 'model'`,
    );
    await queryRunner.query(
      `UPDATE chat_history SET context_first_message_id = (SELECT MIN(e.id) FROM chat_history e WHERE e.chat_id = chat_history.chat_id)
        WHERE role = 'model' AND context_messages > 0`,
    );
    await queryRunner.query(
      `UPDATE chat_sessions SET context_tokens = (
         SELECT h.prompt_tokens + h.output_tokens FROM chat_history h
          WHERE h.chat_id = chat_sessions.chat_id AND h.role = 'model' ORDER BY h.id DESC LIMIT 1)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('spend_ledger', 'priced_as');
    for (const column of ['context_truncated', 'context_first_message_id', 'context_messages', 'priced_as']) await queryRunner.dropColumn('chat_history', column);
    for (const column of ['context_tokens', 'truncation', 'max_context_tokens']) await queryRunner.dropColumn('chat_sessions', column);
  }
}
