import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Files users upload (POST /files): `files` describes each, `file_blobs` holds its bytes — BYTEA
 * on PostgreSQL, BLOB on SQLite — apart, so listing files never reads bytes. A user's files go
 * with the user, a file's bytes with the file (the foreign keys cascade). One file per user and
 * SHA-256: the same bytes uploaded again are the same file.
 */
export class Files1764500000000 implements MigrationInterface {
  name = 'Files1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'files',
        columns: [
          { name: 'file_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '128' },
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'mime_type', type: 'varchar', length: '100' },
          { name: 'modality', type: 'varchar', length: '10' },
          { name: 'bytes', type: 'bigint' },
          { name: 'sha256', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'varchar', length: '30' },
        ],
        indices: [
          new TableIndex({ name: 'idx_files_user', columnNames: ['user_id', 'created_at'] }),
          new TableIndex({ name: 'uq_files_user_sha256', columnNames: ['user_id', 'sha256'], isUnique: true }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_files_user',
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['user_id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
    const binary = queryRunner.connection.options.type === 'postgres' ? 'bytea' : 'blob';
    await queryRunner.createTable(
      new Table({
        name: 'file_blobs',
        columns: [
          { name: 'file_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'content', type: binary },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_file_blobs_file',
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
    await queryRunner.dropTable('file_blobs');
    await queryRunner.dropTable('files');
  }
}
