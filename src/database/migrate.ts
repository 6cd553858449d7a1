import { Injectable } from '@nestjs/common';
import { DataSource, MigrationExecutor } from 'typeorm';

/**
 * Runs the pending migrations, each in its own transaction. On PostgreSQL under a session-level
 * advisory lock, on the connection that migrates: instances starting together on an empty
 * database wait for each other, and the schema is migrated once (the others find nothing
 * pending). A SQLite file is held by one process (data-source-options.ts).
 */
export async function migrate(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    const onPostgres = dataSource.options.type === 'postgres';
    if (onPostgres) await runner.query("SELECT pg_advisory_lock(hashtextextended('gemini-chat-api migrations', 0))");
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      if (onPostgres) await runner.query("SELECT pg_advisory_unlock(hashtextextended('gemini-chat-api migrations', 0))");
    }
  } finally {
    await runner.release();
  }
}

/** The app's database migrated, as readiness asks for it. */
@Injectable()
export class Migrations {
  constructor(private readonly dataSource: DataSource) {}

  apply(): Promise<void> {
    return migrate(this.dataSource);
  }
}
