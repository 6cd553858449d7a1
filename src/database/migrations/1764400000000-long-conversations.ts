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
 * Turns stored before this were all sent with their whole history: that is what is filled in. They
 * were priced as the model that answered (its family, for a `-001` version) when the table of
 * their day had it, and otherwise at their session's model's rates — an estimate, in today's
 * words; the session's model is the best record of what was requested (a PATCH since would
 * have changed it). A ledger line whose session is gone keeps no `priced_as`.
 */

/** The models of the price table before this migration: what "priced" could rest on then. */
const PRICED_BEFORE = [
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-2.0-flash',
  'gemini-3-flash-preview',
  'gemini-3.1-pro-preview',
]
  .map((model) => `'${model}'`)
  .join(', ');

/** The table entry a stored model id was priced as, or NULL: exact, or without a `-001`-style suffix (nested CASE: PostgreSQL refuses a negative SUBSTR length). */
const PRICED_AS = `CASE WHEN model IN (${PRICED_BEFORE}) THEN model
  WHEN LENGTH(model) > 4 THEN CASE WHEN SUBSTR(model, LENGTH(model) - 3, 1) = '-' AND SUBSTR(model, 1, LENGTH(model) - 4) IN (${PRICED_BEFORE})
    THEN SUBSTR(model, 1, LENGTH(model) - 4) END END`;
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

    await queryRunner.query(`UPDATE chat_history SET priced_as = ${PRICED_AS} WHERE role = 'model' AND cost_status = 'priced'`);
    await queryRunner.query(
      `UPDATE chat_history SET cost_status = 'estimated', priced_as = (SELECT s.model FROM chat_sessions s WHERE s.chat_id = chat_history.chat_id)
        WHERE role = 'model' AND cost_status = 'priced' AND priced_as IS NULL`,
    );
    await queryRunner.query(`UPDATE spend_ledger SET priced_as = ${PRICED_AS} WHERE cost_status = 'priced'`);
    await queryRunner.query(
      `UPDATE spend_ledger SET cost_status = 'estimated', priced_as = (SELECT s.model FROM chat_sessions s WHERE s.chat_id = spend_ledger.session_id)
        WHERE cost_status = 'priced' AND priced_as IS NULL`,
    );
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
    for (const column of ['context_truncated', 'context_first_message_id', 'context_messages', 'priced_as'])
      await queryRunner.dropColumn('chat_history', column);
    for (const column of ['context_tokens', 'truncation', 'max_context_tokens']) await queryRunner.dropColumn('chat_sessions', column);
  }
}
