import { Table, TableColumn, TableForeignKey } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Files in turns. A user message keeps what it carried (`chat_history.attachments`, JSON: each
 * file's id, name, type and size as they were, so a message reads the same after its file is
 * deleted). A file keeps what its bytes say about its token weight (`width`, `height`, `pages`,
 * `duration_ms`: null when unknown or not read), so a turn weighs its files without reading
 * them. `gemini_files` remembers each file's copy in Gemini's Files API until it expires: one per
 * file, gone with the file (the foreign key cascades; its name is read first to delete it at Gemini).
 */
export class Attachments1764650000000 implements MigrationInterface {
  name = 'Attachments1764650000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('chat_history', new TableColumn({ name: 'attachments', type: 'text', isNullable: true }));
    await queryRunner.addColumns(
      'files',
      ['width', 'height', 'pages', 'duration_ms'].map((name) => new TableColumn({ name, type: 'bigint', isNullable: true })),
    );
    await queryRunner.createTable(
      new Table({
        name: 'gemini_files',
        columns: [
          { name: 'file_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'uri', type: 'varchar', length: '2048' },
          { name: 'expires_at', type: 'varchar', length: '30' },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_gemini_files_file',
            columnNames: ['file_id'],
            referencedTableName: 'files',
            referencedColumnNames: ['file_id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('gemini_files');
    for (const name of ['duration_ms', 'pages', 'height', 'width']) await queryRunner.dropColumn('files', name);
    await queryRunner.dropColumn('chat_history', 'attachments');
  }
}
