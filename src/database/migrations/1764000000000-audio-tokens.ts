import { TableColumn } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audio tokens are priced at their own rates, so a stored turn needs them to reproduce its own
 * cost. Rows stored before this have none (null, read as 0): every turn so far was text.
 *
 * Idempotency records now keep a request's outcome (its result, or the client error it ended
 * with) instead of a rendered HTTP body. Records are retry guards that live 24 h; those of the
 * old shape cannot be replayed and are dropped.
 */
export class AudioTokens1764000000000 implements MigrationInterface {
  name = 'AudioTokens1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('chat_history', [
      new TableColumn({ name: 'audio_prompt_tokens', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'audio_cached_tokens', type: 'bigint', isNullable: true }),
    ]);
    await queryRunner.query('DELETE FROM idempotency_records');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('chat_history', 'audio_cached_tokens');
    await queryRunner.dropColumn('chat_history', 'audio_prompt_tokens');
  }
}
