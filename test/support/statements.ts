import type { DataSource } from 'typeorm';

/** A statement the database driver ran, as sent. */
export interface RanStatement {
  sql: string;
}

/**
 * Records every statement the app's database driver runs, below TypeORM: better-sqlite3's
 * prepared statements on SQLite (a cached statement counts each time it runs), the pg client's
 * queries on PostgreSQL. `stop()` undoes it.
 */
export function recordStatements(dataSource: DataSource): { ran: RanStatement[]; stop(): void } {
  const ran: RanStatement[] = [];
  const restore: (() => void)[] = [];
  const wrap = (prototype: Record<string, unknown>, method: string, sqlOf: (self: any, args: unknown[]) => string) => {
    const original = prototype[method] as (...args: unknown[]) => unknown;
    prototype[method] = function (this: unknown, ...args: unknown[]) {
      ran.push({ sql: sqlOf(this, args) });
      return original.apply(this, args);
    };
    restore.push(() => (prototype[method] = original));
  };
  const driver = dataSource.driver as any;
  if (dataSource.options.type === 'postgres') {
    const client = driver.postgres.Client.prototype;
    wrap(client, 'query', (_self, [query]) => (typeof query === 'string' ? query : (query as { text: string }).text));
  } else {
    const statement = Object.getPrototypeOf(driver.databaseConnection.prepare('SELECT 1'));
    for (const method of ['run', 'all', 'get', 'iterate']) wrap(statement, method, (self) => self.source);
  }
  return { ran, stop: () => restore.forEach((undo) => undo()) };
}

/** What a statement does, in a word and a table: `SELECT chat_sessions`, `BEGIN`, `INSERT spend_ledger`. */
export function shapeOf(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = text.split(' ')[0].toUpperCase();
  const table = /\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?/i.exec(text)?.[1];
  return table && ['SELECT', 'INSERT', 'UPDATE', 'DELETE'].includes(verb) ? `${verb} ${table}` : verb;
}
