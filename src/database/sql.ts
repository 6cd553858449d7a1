import type { EntityManager, ObjectLiteral } from 'typeorm';

/**
 * Runs SQL written with `:name` parameters on either database: the driver turns them into its
 * own placeholders (`$1` on PostgreSQL, `?` on SQLite). For statements TypeORM cannot build,
 * such as an upsert that adds to a running total.
 */
export function runSql<T = unknown>(manager: EntityManager, sql: string, parameters: ObjectLiteral = {}): Promise<T> {
  const [text, values] = manager.connection.driver.escapeQueryWithParameters(sql, parameters);
  return manager.query(text, values);
}
