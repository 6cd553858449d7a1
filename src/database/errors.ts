import { QueryFailedError } from 'typeorm';

/** A unique or primary-key violation. SQLite: SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE; PostgreSQL: 23505. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * A SQLite file another process holds. SQLite is one process per file: a second would keep its
 * own session lines, rate limits and budget reservations in its own memory and admit turns the
 * first already counted.
 */
export class SqliteFileInUse extends Error {
  constructor(path: string) {
    super(
      `The SQLite file ${path} is in use by another process. SQLite is one process per file: stop the other one, or use PostgreSQL (DATABASE_URL=postgres://…) to run several instances.`,
    );
    this.name = 'SqliteFileInUse';
  }
}
