import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Streams that survive a dropped connection: a streamed turn's events, in order, as its client
 * got them (`turn_events`), and the turn itself (`turn_streams`: its session and user, whether it
 * runs, and whether a cancel was asked for). Any instance reads them to resume or re-attach a
 * stream, and any instance asks for a cancel there. They are a copy kept for reconnects, not the
 * conversation: gone with their session (the foreign keys cascade) and pruned once a turn has
 * been over for TURN_RETENTION_SECONDS.
 */
export class TurnStreams1764750000000 implements MigrationInterface {
  name = 'TurnStreams1764750000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'turn_streams',
        columns: [
          { name: 'turn_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'session_id', type: 'varchar', length: '36' },
          { name: 'user_id', type: 'varchar', length: '128' },
          { name: 'state', type: 'varchar', length: '10' },
          { name: 'cancel_requested_at', type: 'varchar', length: '30', isNullable: true },
          { name: 'created_at', type: 'varchar', length: '30' },
          { name: 'ended_at', type: 'varchar', length: '30', isNullable: true },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_turn_streams_session',
            columnNames: ['session_id'],
            referencedTableName: 'chat_sessions',
            referencedColumnNames: ['chat_id'],
            onDelete: 'CASCADE',
          }),
        ],
        indices: [
          new TableIndex({ name: 'idx_turn_streams_session', columnNames: ['session_id', 'state'] }),
          new TableIndex({ name: 'idx_turn_streams_ended', columnNames: ['ended_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'turn_events',
        columns: [
          { name: 'turn_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'seq', type: 'bigint', isPrimary: true },
          { name: 'event', type: 'varchar', length: '10' },
          { name: 'data', type: 'text' },
          { name: 'created_at', type: 'varchar', length: '30' },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_turn_events_turn',
            columnNames: ['turn_id'],
            referencedTableName: 'turn_streams',
            referencedColumnNames: ['turn_id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('turn_events');
    await queryRunner.dropTable('turn_streams');
  }
}
