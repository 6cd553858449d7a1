import { TableColumn } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

// Written out rather than read from TOKEN_CLASSES: a migration is a snapshot of its day.
const SHARES = [
  'image_prompt_tokens',
  'video_prompt_tokens',
  'document_prompt_tokens',
  'image_cached_tokens',
  'video_cached_tokens',
  'document_cached_tokens',
];

/**
 * Attachments make prompts of images, video and PDFs: a turn's usage keeps each modality's share
 * of its prompt and cached tokens (audio had its columns already), so the usage report can split
 * them and a stored row still reproduces its own cost. Model messages: nullable, as their other
 * counts (null on user rows); the ledger: totals from 0. Rows stored before this had only text
 * and audio: their shares are 0, which is what they were.
 */
export class ModalityTokens1764560000000 implements MigrationInterface {
  name = 'ModalityTokens1764560000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns(
      'chat_history',
      SHARES.map((name) => new TableColumn({ name, type: 'bigint', isNullable: true })),
    );
    await queryRunner.addColumns(
      'spend_ledger',
      SHARES.map((name) => new TableColumn({ name, type: 'bigint', isNullable: false, default: 0 })),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of [...SHARES].reverse()) {
      await queryRunner.dropColumn('spend_ledger', name);
      await queryRunner.dropColumn('chat_history', name);
    }
  }
}
